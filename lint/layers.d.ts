// Types of lint/layers.js for the test that keeps the rule alive (test/unit/layers.test.ts).
export declare const LAYERS: Record<string, string[]>;
export declare function allowedImports(layers?: Record<string, string[]>): Map<string, Set<string>>;
export declare function layersPlugin(srcDir: string): { rules: Record<string, unknown> };
