/**
 * `import()` of a package or a node built-in, for modules loaded only when needed. Code that
 * bin/sdocker.cjs loads from V8's code cache cannot call import() itself (node drops the dynamic
 * import hook of cached code), so the loader hands in its own; without it (tests, tsc output)
 * this is a plain import().
 */
type Loader = (specifier: string) => Promise<unknown>;

export function loadModule<T>(specifier: string): Promise<T> {
  const hook = (globalThis as { sdockerImport?: Loader }).sdockerImport;
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>;
}
