/** Shared test fixtures: a config on a temporary DATA_DIR, and a knowledge base opened once per file. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT, type Config } from '../../bot/config.ts';

export function tempDir(prefix = 'xiaoan-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: tempDir(), LOG_LEVEL: 'silent', ...overrides });
}

/** A copy of a few real guides in a temporary folder, for tests that edit guides. */
export function copyGuides(ids: string[]): string {
  const dir = tempDir('xiaoan-guides-');
  for (const id of ids) cpSync(path.join(PROJECT_ROOT, 'knowledge-base', 'guides', `${id}.md`), path.join(dir, `${id}.md`));
  return dir;
}
