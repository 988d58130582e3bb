/** Engine and image facts for applyPolicy, from GET /info and GET /images/{name}/json. Pure. */
import type { EngineInfo, ImageInspect } from '../api/types.js';
import type { EngineFacts, ImageFacts } from './types.js';

export function engineFactsFrom(info: EngineInfo & { NCPU?: number; LoggingDriver?: string }, socketPaths: string[] = []): EngineFacts {
  const sec = info.SecurityOptions ?? [];
  const has = (name: string) => sec.some((s) => s === `name=${name}` || s.startsWith(`name=${name},`));
  const facts: EngineFacts = {
    usernsRemap: has('userns'),
    apparmor: has('apparmor'),
    selinux: has('selinux'),
    runtimes: Object.keys(info.Runtimes ?? {}),
    socketPaths,
  };
  if (info.CgroupVersion) facts.cgroupVersion = info.CgroupVersion;
  if (typeof info.NCPU === 'number') facts.ncpu = info.NCPU;
  if (info.LoggingDriver) facts.loggingDriver = info.LoggingDriver;
  if (info.DockerRootDir) facts.dockerRootDir = info.DockerRootDir;
  return facts;
}

export function imageFactsFrom(inspect: ImageInspect | undefined): ImageFacts | undefined {
  if (!inspect) return undefined;
  const c = inspect.Config ?? {};
  return { User: c.User ?? '', Volumes: c.Volumes ?? null, ExposedPorts: c.ExposedPorts ?? null, ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}) };
}
