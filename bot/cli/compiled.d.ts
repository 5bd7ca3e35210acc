// Types of compiled.js (plain JavaScript, run before tsx is loaded) for the tests.
export declare const RUNTIME_DIRS: readonly string[];
export declare const STAMP: string;
export declare function newestSourceMs(root: string): number;
export declare function freshness(root: string, outDir?: string): 'fresh' | 'stale' | 'missing';
