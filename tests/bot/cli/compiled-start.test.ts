/**
 * `npm start` runs the compiled server (dist/, tsconfig.build.json): it must build, find the
 * data files of the source tree (YAML, SQL, calibration, web pages) and serve over HTTP.
 * Uses dist/ when its build is current, else builds into a folder of its own.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { freshness, STAMP } from '../../../bot/cli/compiled.js';
import { CALIBRATION_FILE } from '../../../knowledge-base/retrieval/confidence.ts';
import { ROUTING_FILE } from '../../../integrations/case-platform/desk/router.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';

const run = promisify(execFile);

describe('the compiled server', () => {
  let out = '';
  let ownBuild = false;
  let dataDir = '';
  const env = () => ({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'info', PORT: '0' });

  beforeAll(async () => {
    dataDir = tempDir();
    if (freshness(PROJECT_ROOT) === 'fresh') {
      out = path.join(PROJECT_ROOT, 'dist');
      return;
    }
    // Inside the project (under the ignored .tmp/), as dist/ is: the build finds the project above it.
    mkdirSync(path.join(PROJECT_ROOT, '.tmp'), { recursive: true });
    out = mkdtempSync(path.join(PROJECT_ROOT, '.tmp', 'compiled-test-'));
    ownBuild = true;
    await run(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'build.js'), '--out', out], { cwd: PROJECT_ROOT });
  }, 300_000);
  afterAll(() => {
    removeDir(dataDir);
    if (ownBuild) rmSync(out, { recursive: true, force: true });
  });

  it('finds the data files of the source tree from its own modules', async () => {
    const script = `
      const { PROJECT_ROOT } = await import(${JSON.stringify(path.join(out, 'bot', 'config.js'))});
      const { CALIBRATION_FILE } = await import(${JSON.stringify(path.join(out, 'knowledge-base', 'retrieval', 'confidence.js'))});
      const { ROUTING_FILE } = await import(${JSON.stringify(path.join(out, 'integrations', 'case-platform', 'desk', 'router.js'))});
      console.log(JSON.stringify({ PROJECT_ROOT, CALIBRATION_FILE, ROUTING_FILE }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT_ROOT });
    const paths = JSON.parse(stdout) as Record<string, string>;
    expect(paths).toEqual({ PROJECT_ROOT, CALIBRATION_FILE, ROUTING_FILE });
    expect(existsSync(CALIBRATION_FILE)).toBe(true);
  });

  it('answers a question (xiaoan ask)', async () => {
    const { stdout } = await run(process.execPath, [path.join(out, 'bot', 'cli', 'main.js'), 'ask', '--no-log', '--json', '身份证丢了怎么补办'], {
      env: env(),
      cwd: PROJECT_ROOT,
    });
    const r = JSON.parse(stdout) as { intent: string; item: { name: string } | null };
    expect(r.intent).toBe('answer');
    expect(r.item?.name).toContain('身份证');
  });

  it('serves HTTP (xiaoan serve): health, readiness, the web chat and /api/ask', async () => {
    const child = spawn(process.execPath, [path.join(out, 'bot', 'cli', 'main.js'), 'serve'], { env: env(), cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          const m = /localhost:(\d+)\//.exec(text);
          if (m) resolve(Number(m[1]));
        });
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        void exited.then((code) => reject(new Error(`serve exited with ${code}: ${text}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const ask = await fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '驾驶证到期怎么换证' }) });
      expect(ask.status).toBe(200);
      expect(((await ask.json()) as { item: { name: string } | null }).item?.name).toContain('驾驶证');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('whether the `xiaoan` shim may run dist/', () => {
  let root = '';
  beforeAll(() => {
    root = tempDir();
    mkdirSync(path.join(root, 'bot'), { recursive: true });
    writeFileSync(path.join(root, 'bot', 'a.ts'), 'export {};\n');
  });
  afterAll(() => removeDir(root));
  const at = (file: string, seconds: number) => utimesSync(path.join(root, file), seconds, seconds);

  it('is missing without a build, stale without a stamp or with a newer source, else fresh', () => {
    expect(freshness(root)).toBe('missing');
    mkdirSync(path.join(root, 'dist', 'bot', 'cli'), { recursive: true });
    writeFileSync(path.join(root, 'dist', 'bot', 'cli', 'main.js'), '');
    expect(freshness(root)).toBe('stale');
    writeFileSync(path.join(root, 'dist', STAMP), '');
    at('bot/a.ts', 1_000_000);
    at(`dist/${STAMP}`, 2_000_000);
    expect(freshness(root)).toBe('fresh');
    // Data files are read from the sources, so only TypeScript makes a build stale.
    writeFileSync(path.join(root, 'bot', 'b.yaml'), '');
    at('bot/b.yaml', 3_000_000);
    expect(freshness(root)).toBe('fresh');
    at('bot/a.ts', 3_000_000);
    expect(freshness(root)).toBe('stale');
  });
});
