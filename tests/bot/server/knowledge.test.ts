/**
 * The editors' API over HTTP: a fee edited in a draft is not live until a second editor
 * approves it after the gate and it is published; then answers change without a restart,
 * and a rollback restores the old answer. Roles and audit.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { useTestServer } from '../../helpers/server.ts';
import { staffLogin } from '../../helpers/staff.ts';

describe('知识库: the editors API', () => {
  const t = useTestServer({ KB_RELEASE_CHECK_MS: '200' }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'li', 'editor-password-1', ['editor']);
    await addStaff(db, 'wang', 'editor-password-2', ['editor']);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler'], 'cli', { unit: 'sj' });
    await db.close();
  });
  const fee = async () => JSON.stringify(await (await fetch(`${t.base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ text: '办护照要多少钱' }) })).json());

  it('edit → submit → gate → approve by another → publish goes live; rollback restores; the author cannot approve', async () => {
    const li = await staffLogin(t.base, 'li', 'editor-password-1');
    const wang = await staffLogin(t.base, 'wang', 'editor-password-2');
    const zhang = await staffLogin(t.base, 'zhang', 'handler-password-1');
    expect((await zhang.get('/api/staff/knowledge/guides')).status).toBe(403);

    const guides = (await li.get('/api/staff/knowledge/guides')).body;
    expect(guides.guides.find((g: { id: string }) => g.id === 'crj-01')).toMatchObject({ name: '普通护照首次申领', hitsThisMonth: expect.any(Number) });
    const seedId = guides.release.id as number;

    const draft = (await li.get(`/api/staff/knowledge/releases`)).body.releases[0];
    expect(draft).toMatchObject({ id: seedId, kind: 'seed', inForce: true, served: true });
    // The draft file: the guide in force with the fee changed.
    const { rows } = await t.server.db.query<{ text: string }>("SELECT files ->> 'guides/crj-01.md' AS text FROM kb_releases WHERE id = $1", [seedId]);
    const edited = rows[0]!.text.replace('普通护照每本120元', '普通护照每本100元');
    expect((await li.post('/api/staff/knowledge/drafts', { files: { '../etc/passwd': 'x' } })).status).toBe(400);
    const created = (await li.post('/api/staff/knowledge/drafts', { note: '护照收费调整', files: { 'guides/crj-01.md': edited } })).body;
    expect(created.changes).toEqual({ added: [], changed: ['guides/crj-01.md'], removed: [] });
    const id = created.id as number;
    expect((await wang.post(`/api/staff/knowledge/drafts/${id}`, { files: { 'guides/crj-01.md': edited } })).status).toBe(403);
    // Asked before it is live: the draft says 100元, the release in force still 120元.
    const preview = (await li.post(`/api/staff/knowledge/drafts/${id}/preview`, { text: '办护照要多少钱' })).body;
    expect(preview).toMatchObject({ changed: true, draft: { item: { id: 'crj-01' } }, published: { item: { id: 'crj-01' } } });
    expect(preview.draft.answer).toContain('100元');
    expect(preview.published.answer).toContain('120元');
    expect(preview.draft.candidates[0]).toMatchObject({ id: 'crj-01', fused: expect.any(Number), bm25: { rank: expect.any(Number), score: expect.any(Number) } });
    expect((await li.post(`/api/staff/knowledge/drafts/${id}/preview`, { text: '' })).status).toBe(400);
    expect((await li.post('/api/staff/knowledge/drafts/999/preview', { text: '护照' })).status).toBe(404);
    expect(await fee()).toContain('120元');
    expect((await li.post(`/api/staff/knowledge/drafts/${id}/submit`)).status).toBe(200);
    expect(await fee()).toContain('120元');
    expect((await wang.post(`/api/staff/knowledge/drafts/${id}/approve`)).status).toBe(409);
    const gate = (await wang.post(`/api/staff/knowledge/drafts/${id}/gate`)).body;
    expect(gate).toMatchObject({ valid: true, blocked: false });
    expect((await li.post(`/api/staff/knowledge/drafts/${id}/approve`)).status).toBe(403);
    expect((await wang.post(`/api/staff/knowledge/drafts/${id}/publish`)).status).toBe(409);
    expect((await wang.post(`/api/staff/knowledge/drafts/${id}/approve`)).body.status).toBe('approved');
    expect(await fee()).toContain('120元');
    const release = (await wang.post(`/api/staff/knowledge/drafts/${id}/publish`)).body;
    expect(release).toMatchObject({ kind: 'release', author: 'li', approver: 'wang' });
    // This process switched at once.
    expect(await fee()).toContain('100元');

    const back = (await wang.post(`/api/staff/knowledge/releases/${seedId}/rollback`, { note: '收费文件尚未生效' })).body;
    expect(back).toMatchObject({ kind: 'rollback', restores: seedId });
    expect(await fee()).toContain('120元');
    expect((await wang.post('/api/staff/knowledge/releases/99999/rollback')).status).toBe(404);

    const audit = await t.server.db.query<{ actor: string; action: string }>("SELECT actor, action FROM audit_log WHERE action LIKE 'kb.%' AND outcome = 'ok' ORDER BY id");
    expect(audit.rows.map((r) => `${r.actor} ${r.action}`)).toEqual(['li kb.draft.create', 'li kb.draft.submit', 'wang kb.draft.gate', 'wang kb.draft.approve', 'wang kb.draft.publish', 'wang kb.rollback']);
  }, 120_000);

  it("the guide editor: a guide's fields, problems named by field as it is typed, its open drafts and last change in the list", async () => {
    const li = await staffLogin(t.base, 'li', 'editor-password-1');
    const draft = (await li.post('/api/staff/knowledge/drafts', { note: '护照收费' })).body;
    const id = draft.id as number;
    const guide = (await li.get(`/api/staff/knowledge/drafts/${id}/guides/crj-01`)).body;
    expect(guide).toMatchObject({ path: 'guides/crj-01.md', inDraft: true, problems: [], fields: { id: 'crj-01', name: '普通护照首次申领' } });
    expect(guide.published).toBe(guide.text);
    expect(guide.fields.sections['收费标准']).toContain('120元');
    // Its English version is in step with it.
    expect(guide.english).toEqual({ present: true, warnings: [] });
    expect((await li.get(`/api/staff/knowledge/drafts/${id}/guides/fw-02`)).body.english).toEqual({ present: false, warnings: [] });
    expect((await li.get(`/api/staff/knowledge/drafts/${id}/guides/no-such-item`)).status).toBe(404);
    expect((await li.get(`/api/staff/knowledge/drafts/${id}/guides/..%2Fetc`)).status).toBe(400);

    // The form as the editor types: an emptied section and a 相似问 another item has are named by field.
    const fields = structuredClone(guide.fields);
    fields.sections['收费标准'] = '';
    const other = (await li.get(`/api/staff/knowledge/drafts/${id}/guides/hj-01`)).body.fields.questions[0] as string;
    fields.questions.push(other);
    const checked = (await li.post(`/api/staff/knowledge/drafts/${id}/check`, { itemId: 'crj-01', fields })).body;
    expect(checked.problems.map((p: { field: string }) => p.field).sort()).toEqual(['questions', '收费标准']);
    expect(checked.problems.find((p: { field: string }) => p.field === 'questions').message).toContain(other);
    // Fixed: no problem left, and the text rendered from the fields reads back as the same fields.
    fields.sections['收费标准'] = '普通护照每本100元。';
    fields.questions.pop();
    const fixed = (await li.post(`/api/staff/knowledge/drafts/${id}/check`, { itemId: 'crj-01', fields })).body;
    expect(fixed.problems).toEqual([]);
    expect(fixed.fields).toEqual(fields);
    // The English Fees section still has the old lines: a warning for the editor, not a problem that blocks the draft.
    expect(checked.english.warnings.length).toBeGreaterThan(0);
    expect(fixed.english.warnings.map((w: { message: string }) => w.message).join('\n')).toContain('## Fees');
    // In Markdown, a YAML slip is a problem of the file, with its line.
    const broken = (await li.post(`/api/staff/knowledge/drafts/${id}/check`, { itemId: 'crj-01', text: fixed.text.replace('aliases:', 'aliases: [') })).body;
    expect(broken.fields).toBeNull();
    expect(broken.problems[0]).toMatchObject({ field: null, line: expect.any(Number), message: expect.stringContaining('YAML') });
    expect((await li.post(`/api/staff/knowledge/drafts/${id}/check`, { itemId: 'crj-01', fields: { ...fields, aliases: 'x' } })).status).toBe(400);
    expect((await li.post(`/api/staff/knowledge/drafts/${id}/check`, { itemId: 'crj-01' })).status).toBe(400);
    // Nothing was saved by checking; saving marks the guide as in a draft in the list.
    const list = (await li.get('/api/staff/knowledge/guides')).body;
    const before = list.guides.find((g: { id: string }) => g.id === 'crj-01');
    // The fee was edited and rolled back by wang in the test above; 户口 never changed since the seed.
    const releases = (await li.get('/api/staff/knowledge/releases')).body.releases;
    const [inForce, seed] = [releases[0], releases.at(-1)];
    expect(seed.kind).toBe('seed');
    expect(before).toMatchObject({ status: 'published', drafts: [], lastChange: { releaseId: inForce.id, author: 'wang' } });
    expect(list.guides.find((g: { id: string }) => g.id === 'hj-01').lastChange).toMatchObject({ releaseId: seed.id, author: 'seed' });
    expect((await li.post(`/api/staff/knowledge/drafts/${id}`, { files: { 'guides/crj-01.md': fixed.text } })).status).toBe(200);
    const after = (await li.get('/api/staff/knowledge/guides')).body.guides.find((g: { id: string }) => g.id === 'crj-01');
    expect(after).toMatchObject({ status: 'draft', drafts: [{ id, status: 'draft', author: 'li' }] });
    const saved = (await li.get(`/api/staff/knowledge/drafts/${id}/guides/crj-01`)).body;
    expect(saved.text).toBe(fixed.text);
    expect(saved.published).toContain('120元');
  }, 60_000);

  it('xiaoan kb export and kb import work beside the running server (PGlite), through its control route', async () => {
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js'), 'kb', ...args], {
        env: { ...process.env, DATA_DIR: t.config.dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' },
        cwd: PROJECT_ROOT,
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const out = mkdtempSync(path.join(os.tmpdir(), 'xiaoan-kb-'));
    const exported = await cli(['export', '--format', 'md', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const inForce = (await t.server.db.query<{ id: string }>('SELECT id FROM kb_releases ORDER BY effective_at DESC, id DESC LIMIT 1')).rows[0]!.id;
    expect(exported.stdout).toContain(`release ${inForce} `);
    const file = path.join(out, 'guides', 'crj-01.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('普通护照每本120元', '普通护照每本90元'));
    const imported = await cli(['import', out, '--note', '从文件导入', '--by', 'zhao']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/draft (\d+) by zhao on release \d+: 0 added, 1 changed, 0 removed; valid\./);
    const id = Number(/draft (\d+)/.exec(imported.stdout)![1]);
    const li = await staffLogin(t.base, 'li', 'editor-password-1');
    const draft = (await li.get(`/api/staff/knowledge/drafts/${id}`)).body;
    expect(draft).toMatchObject({ author: 'zhao', note: '从文件导入', status: 'draft', changes: { changed: ['guides/crj-01.md'] } });
    expect(draft.files['guides/crj-01.md']).toContain('90元');

    // The route takes its commands from this machine with the token only, and checks them.
    const { token } = JSON.parse(readFileSync(path.join(t.config.dataDir, 'control.json'), 'utf8')) as { token: string };
    const send = (body: unknown, auth = token) => fetch(`${t.base}/local/kb`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });
    expect((await send({ op: 'export' }, 'wrong')).status).toBe(403);
    expect((await send({ op: 'import', files: { '../x': 'y' }, keepLexicon: true, by: 'x' })).status).toBe(400);
    expect((await send({ op: 'drop' })).status).toBe(400);
  }, 120_000);
});
