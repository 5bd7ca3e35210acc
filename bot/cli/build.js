// `npm run build` (also run by `npm install`, the "prepare" script): compiles the server with
// tsc -p tsconfig.build.json into dist/ (or `--out DIR`), then writes the stamp that tells the
// `xiaoan` shim the build is current. The stamp carries the time the build started, so a
// source saved while tsc ran still counts as newer than the build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP } from './compiled.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const at = process.argv.indexOf('--out');
const outDir = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : path.join(root, 'dist');
const started = new Date();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// A build from scratch: files of deleted sources do not linger in dist/.
rmSync(outDir, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`xiaoan build: tsc failed (exit ${r.status ?? r.signal}); \`xiaoan\` runs the sources through tsx until a build succeeds.`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
const stamp = path.join(outDir, STAMP);
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
console.log(`xiaoan build: ${path.relative(root, outDir) || '.'} in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`);
