/**
 * Importing a bureau's service guide: the shipped .docx (普通护照首次申领, with three 情形) and
 * .pdf (居民身份证丢失补领, its text in the radical forms PDF fonts use) are read into every
 * section, reviewed, and become valid drafts; what a service guide never says (相似问,
 * aliases, 情形 keywords) is kept from the guide in force. Bad uploads are refused in Chinese.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { SECTION_NAMES as SECTIONS } from '../../../knowledge-base/guide.ts';
import { getDraft } from '../../../knowledge-base/releases.ts';
import { useTestServer } from '../../helpers/server.ts';
import { staffLogin } from '../../helpers/staff.ts';

const SAMPLES = path.join(PROJECT_ROOT, 'knowledge-base', 'import', 'samples');
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describe('知识库: importing a Word or PDF service guide', () => {
  const t = useTestServer({}, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'li', 'editor-password-1', ['editor']);
    await db.close();
  });
  const upload = async (file: string, type: string, itemId: string) => {
    const li = await staffLogin(t.base, 'li', 'editor-password-1');
    const res = await fetch(`${t.base}/api/staff/knowledge/import?itemId=${itemId}`, {
      method: 'POST',
      headers: { cookie: li.cookie, origin: t.base, 'x-csrf-token': li.csrf, 'content-type': type },
      body: file ? readFileSync(path.join(SAMPLES, file)) : Buffer.from('not a document'),
    });
    return { status: res.status, body: await res.json(), li };
  };

  it('reads the .docx into every section with its three 情形, and the reviewed proposal becomes a valid draft', async () => {
    const { status, body, li } = await upload('crj-01-service-guide.docx', DOCX, 'crj-01');
    expect(status).toBe(200);
    const p = body.proposal;
    expect(p).toMatchObject({ id: 'crj-01', name: '普通护照首次申领', category: '出入境', documentTitle: null, unplaced: ['实施机关：本市公安局出入境管理支队', '事项类型：行政许可'] });
    for (const s of SECTIONS) expect(p.sections[s].length, s).toBeGreaterThan(0);
    expect(p.sections['收费标准'][0]).toBe('普通护照每本120元。');
    expect(p.sections['办理流程']).toHaveLength(5);
    expect(p.situations.map((s: { name: string }) => s.name)).toEqual(['年满16周岁本人申请', '未满16周岁', '登记备案的国家工作人员']);
    expect(p.situations[1].materials).toContain('监护人居民身份证及监护关系证明（出生医学证明、户口簿等）');
    // Kept from the guide in force: its 相似问 and the 情形 keywords.
    expect(p.origin).toMatchObject({ questions: 'existing guide', situations: 'document', 收费标准: 'document' });
    expect(p.questions.length).toBeGreaterThanOrEqual(8);
    expect(p.situations[1].keywords).toContain('孩子');

    // The editor reviews a field (one more tip) and makes the draft.
    p.sections['温馨提示'].push('护照有效期内请勿重复申领。');
    const made = (await li.post('/api/staff/knowledge/import/draft', { proposal: p, note: '按新版办事指南更新' })).body;
    expect(made.problems).toEqual([]);
    expect(made.changes).toEqual({ added: [], changed: ['guides/crj-01.md'], removed: [] });
    const draft = (await getDraft(t.server.db, made.draft.id))!;
    expect(draft).toMatchObject({ status: 'draft', author: 'li', note: '按新版办事指南更新' });
    expect(draft.files['guides/crj-01.md']).toContain('- 护照有效期内请勿重复申领。');
    expect(draft.files['guides/crj-01.md']).toMatch(/^---\nid: crj-01\nname: 普通护照首次申领\n/);
  });

  it('reads the .pdf, folding the radical forms of its text, into a valid draft', async () => {
    const { status, body, li } = await upload('sfz-04-service-guide.pdf', 'application/pdf', 'sfz-04');
    expect(status).toBe(200);
    const p = body.proposal;
    expect(JSON.stringify(p)).not.toMatch(/[\u2E80-\u2FDF]/);
    for (const s of SECTIONS) expect(p.sections[s].length, s).toBeGreaterThan(0);
    expect(p.sections['收费标准'][0]).toContain('工本费每证40元');
    expect(p.sections['办理条件'][0]).toContain('居民身份证丢失的本市户籍居民');
    expect(p.situations.map((s: { name: string }) => s.name)).toEqual(['在户籍地补领', '在非户籍地异地补领']);
    expect(p.sections['温馨提示'][0]).toMatch(/^原证丢失后即作废/);
    const made = (await li.post('/api/staff/knowledge/import/draft', { proposal: p })).body;
    expect(made.problems).toEqual([]);
    expect(made.draft.note).toBe('导入办事指南：居民身份证丢失补领');
  });

  it('refuses what it cannot read, and a proposal that drops a section is a draft the validator flags', async () => {
    expect((await upload('', DOCX, 'crj-01')).body.error).toMatch(/无法读取该 Word 文件/);
    expect((await upload('crj-01-service-guide.docx', 'text/plain', 'crj-01')).status).toBe(400);
    expect((await upload('crj-01-service-guide.docx', DOCX, 'nope')).body.error).toMatch(/事项目录/);
    const { body, li } = await upload('crj-01-service-guide.docx', DOCX, 'crj-01');
    const p = body.proposal;
    p.sections['收费标准'] = [];
    const made = (await li.post('/api/staff/knowledge/import/draft', { proposal: p })).body;
    expect(made.problems.join('\n')).toMatch(/收费标准/);
    expect((await li.post('/api/staff/knowledge/import/draft', { proposal: { id: 'crj-01' } })).status).toBe(400);
  });
});
