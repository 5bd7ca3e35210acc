/**
 * Where the project's files are, whether this code runs from the sources (tsx, vitest) or
 * compiled into dist/ (`npm start`, tsconfig.build.json). Data files (YAML, SQL, JSON, the
 * web pages) are never copied into dist: they are read from the source tree, so an edit to
 * one takes effect without a build. No imports beyond node: every module may use this.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The root of the tree this module was loaded from: the project itself, or the output folder
 * of a build (dist/, or a test's own), which mirrors the source layout. This file is bot/paths.
 */
const LOADED_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The folder holding package.json: the loaded root, or the first folder above it with one. */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from; // none above: keep the layout's own guess
  }
}

export const PROJECT_ROOT = findProjectRoot(LOADED_ROOT);

/**
 * A file beside a module in the source tree: `sourceFile(import.meta.url, 'routing.yaml')`
 * is integrations/case-platform/desk/routing.yaml for that folder's module, compiled or not.
 */
export function sourceFile(moduleUrl: string, ...parts: string[]): string {
  const dir = path.dirname(fileURLToPath(moduleUrl));
  return path.join(PROJECT_ROOT, path.relative(LOADED_ROOT, dir), ...parts);
}
