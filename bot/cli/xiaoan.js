#!/usr/bin/env node
// The `xiaoan` command. It runs the compiled server in dist/ (built by `npm install` or
// `npm run build`) when that build is not older than the sources, for a quick start; otherwise
// the TypeScript sources through tsx, so an edited source never runs as stale code.
// XIAOAN_FROM_SOURCE=1 always runs the sources.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshness } from './compiled.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fromSource = /^(1|true|yes)$/i.test(process.env.XIAOAN_FROM_SOURCE ?? '');
const state = fromSource ? 'skipped' : freshness(root);
if (state === 'fresh') {
  await import(pathToFileURL(path.join(root, 'dist', 'bot', 'cli', 'main.js')).href);
} else {
  if (state === 'stale') console.error('xiaoan: dist/ is older than the sources; running them through tsx (slower start). `npm run build` compiles them again.');
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
