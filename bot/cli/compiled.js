// Whether the compiled server in dist/ (tsconfig.build.json, `npm run build`) is up to date
// with the TypeScript sources. Plain JavaScript: the `xiaoan` shim runs it before tsx is loaded.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The folders compiled into dist/ (tsconfig.build.json's "include"). */
export const RUNTIME_DIRS = ['bot', 'handlers', 'knowledge-base', 'integrations', 'eval'];
/** Written by build.js after a build; its mtime is when that build started. */
export const STAMP = '.built';

/**
 * The newest mtime (ms) among the runtime .ts files and the tsconfigs: only they change the
 * compiled code (data files are read from the source tree). About 140 stats, a few ms.
 */
export function newestSourceMs(root) {
  let newest = 0;
  const see = (file) => {
    const ms = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (ms > newest) newest = ms;
  };
  for (const top of RUNTIME_DIRS) {
    const dir = path.join(root, top);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) see(path.join(e.parentPath, e.name));
    }
  }
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) see(path.join(root, f));
  return newest;
}

/**
 * 'fresh' when outDir holds a build not older than any source, 'stale' when it holds an older
 * (or unfinished) one, 'missing' when there is no build there at all.
 */
export function freshness(root, outDir = path.join(root, 'dist')) {
  if (!existsSync(path.join(outDir, 'bot', 'cli', 'main.js'))) return 'missing';
  const stamp = statSync(path.join(outDir, STAMP), { throwIfNoEntry: false });
  if (!stamp) return 'stale';
  return newestSourceMs(root) <= stamp.mtimeMs ? 'fresh' : 'stale';
}
