import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { copyGuides, removeDir, tempDir } from '../../helpers/kb.ts';

const run = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js');

describe('xiaoan CLI', () => {
  let dataDir = '';
  const env = () => ({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const xiaoan = (...args: string[]) => run(process.execPath, [BIN, ...args], { env: env(), cwd: PROJECT_ROOT, maxBuffer: 64 << 20 });
  const fails = async (args: string[], extraEnv: Record<string, string> = {}) => {
    try {
      await run(process.execPath, [BIN, ...args], { env: { ...env(), ...extraEnv }, cwd: PROJECT_ROOT });
    } catch (e) {
      return e as { code: number; stderr: string };
    }
    throw new Error(`xiaoan ${args.join(' ')} should have failed`);
  };

  beforeAll(() => {
    dataDir = tempDir();
  });
  afterAll(() => removeDir(dataDir));

  it('kb validate passes on the shipped guides', async () => {
    const { stdout } = await xiaoan('kb', 'validate');
    expect(stdout).toMatch(/^OK: 121 guides/);
  });

  it('is on the path as `npx xiaoan` after npm install', async () => {
    const { stdout } = await run('npx', ['--no-install', 'xiaoan', 'kb', 'validate'], { env: env(), cwd: PROJECT_ROOT });
    expect(stdout).toMatch(/^OK: 121 guides/);
  });

  it('kb validate exits non-zero and names file, line and fix for a bad guide', async () => {
    const dir = copyGuides(['sfz-04']);
    writeFileSync(path.join(dir, 'sfz-04.md'), '---\nid: sfz-04\nname: 错的名字\n---\n');
    const e = await fails(['kb', 'validate'], { GUIDES_DIR: dir });
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('sfz-04.md:3: name "错的名字" differs from the catalogue');
    expect(e.stderr).toContain('fix: write "name: 居民身份证丢失补领"');
    removeDir(dir);
  });

  it('kb build builds and publishes, then reuses', async () => {
    const first = await xiaoan('kb', 'build', '--by', 'tester');
    expect(first.stdout).toMatch(/built in \d+ ms: 121 items/);
    expect(first.stdout).toMatch(/published version 1 .* by tester/);
    const second = await xiaoan('kb', 'build');
    expect(second.stdout).toMatch(/reused the saved index/);
    expect(second.stdout).toMatch(/version 1 .* is already current/);
  });

  it('kb export writes one chunk a line with the documented fields', async () => {
    const { stdout } = await xiaoan('kb', 'export', '--format', 'jsonl');
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.length).toBeGreaterThan(121 * 17);
    expect(Object.keys(rows[0]!).slice(0, 5)).toEqual(['itemId', 'itemName', 'category', 'section', 'text']);
    expect(new Set(rows.map((r) => r.itemId)).size).toBe(121);
    expect(rows.some((r) => r.section === '收费标准' && r.itemId === 'sfz-04' && (r.text ?? '').includes('40'))).toBe(true);
    const e = await fails(['kb', 'export', '--format', 'csv']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('unknown --format "csv"');
  });

  it('ask --json prints the documented object', async () => {
    const { stdout } = await xiaoan('ask', '--json', '身份证丢了补办要多少钱');
    const o = JSON.parse(stdout);
    expect(Object.keys(o)).toEqual(['query', 'normalized', 'intent', 'item', 'candidates', 'aspect', 'confidence', 'answer', 'latencyMs']);
    expect(o).toMatchObject({ intent: 'answer', item: { id: 'sfz-04', name: '居民身份证丢失补领' }, aspect: 'fees' });
    expect(o.answer?.text).toContain('40 元');
    expect(o.answer?.text).toContain('来源：《居民身份证丢失补领》办事指南');
    expect(o.answer.sources).toEqual([{ itemId: 'sfz-04', section: '收费标准' }]);
    expect(o.candidates.length).toBeLessThanOrEqual(5);
  });

  it('ask --batch keeps input order, pays start-up once and reports bad lines in place', async () => {
    const file = path.join(dataDir, 'questions.txt');
    writeFileSync(file, ['有人拿刀砍人', '社保怎么交', '', '驾照到期换证要带什么', '转人工'].join('\n'));
    const { stdout } = await xiaoan('ask', '--batch', file, '--json');
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.intent ?? r.error)).toEqual(['emergency', 'out_of_scope', 'empty question', 'answer', 'handoff']);
    expect(rows[0].answer.text).toMatch(/^紧急情况请立即拨打 110/);
    expect(rows[3].item.id).toBe('jsz-02');
    expect(rows[3].aspect).toBe('materials');
  });

  it('rejects bad arguments with exit code 2 and a clear message', async () => {
    expect((await fails(['ask'])).stderr).toContain('give a question');
    expect((await fails(['ask', '--batch', '/no/such/file'])).stderr).toContain('no such file');
    const cfg = await fails(['kb', 'validate'], { PORT: 'x' });
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toContain('PORT must be a number');
  });
});

describe('xiaoan chat', () => {
  it('chats in the terminal with numbered menus, and a typed number picks', async () => {
    const dataDir = tempDir();
    const child = execFile(process.execPath, [BIN, 'chat'], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, cwd: PROJECT_ROOT });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin!.write('身份证丢了怎么办\n');
    child.stdin!.write('1\n');
    child.stdin!.end('退出\n');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toContain('1. 身份证丢了怎么补');
    expect(out).toContain('1. 在户籍地补领');
    expect(out).toContain('来源：《居民身份证丢失补领》办事指南');
    removeDir(dataDir);
  });
});

describe('npm run demo:wechat', () => {
  it('shows a simulated citizen chatting with 小安 over the WeCom protocol, offline', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'demo-wechat'], { cwd: PROJECT_ROOT, env: { ...process.env, LOG_LEVEL: 'silent' }, maxBuffer: 8 << 20 });
    expect(stdout).toContain('👤 群众：身份证掉了咋整');
    expect(stdout).toContain('来源：《居民身份证丢失补领》办事指南');
    expect(stdout).toContain('紧急情况请立即拨打 110');
  });
});
