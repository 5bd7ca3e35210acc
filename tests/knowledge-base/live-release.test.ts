/**
 * A new release is in force in the running server without a restart, and a rollback brings
 * the old answer back: the fee of 普通护照首次申领 changed in a release, asked over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { currentRelease, getRelease, listReleases, publishRelease, rollbackTo } from '../../knowledge-base/releases.ts';
import { useTestServer } from '../helpers/server.ts';

describe('the knowledge in force, switched live', () => {
  const t = useTestServer({ KB_RELEASE_CHECK_MS: '200' });
  // A new connection each time: while a release's index is built the server's event loop is
  // busy for seconds, and a kept-alive socket can be closed just as the next request goes out.
  const ask = async (text: string) =>
    (await (await fetch(`${t.base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ text }) })).json()) as {
      answer?: string;
      item?: { id: string };
    };
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  it('serves a published release within seconds and the earlier one again after a rollback', async () => {
    const seed = (await currentRelease(t.server.db, { files: true }))!;
    expect(seed.kind).toBe('seed');
    expect(t.server.knowledge.release.id).toBe(seed.id);
    const before = await ask('办护照要多少钱');
    expect(before.item?.id).toBe('crj-01');
    expect(JSON.stringify(before)).toContain('120元');

    const files = { ...seed.files! };
    files['guides/crj-01.md'] = files['guides/crj-01.md']!.replace('普通护照每本120元', '普通护照每本100元');
    const release = await publishRelease(t.server.db, files, { author: 'editor1', approver: 'editor2', note: '护照收费调整' });
    expect(await waitFor(async () => JSON.stringify(await ask('办护照要多少钱')).includes('100元'))).toBe(true);
    expect(t.server.knowledge.release.id).toBe(release.id);
    // Every logged answer names the release it came from.
    const logged = await t.server.db.query<{ kb_release: string }>("SELECT kb_release FROM question_log WHERE text = '办护照要多少钱' ORDER BY id");
    expect(Number(logged.rows[0]!.kb_release)).toBe(seed.id);
    expect(Number(logged.rows.at(-1)!.kb_release)).toBe(release.id);
    // The published index version names the release.
    const { rows } = await t.server.db.query<{ published_by: string }>('SELECT published_by FROM kb_versions WHERE is_current');
    expect(rows[0]!.published_by).toBe(`release:${release.id}`);

    const back = await rollbackTo(t.server.db, seed.id, { by: 'editor2' });
    expect(back).toMatchObject({ kind: 'rollback', restores: seed.id, checksum: seed.checksum });
    expect(await waitFor(async () => JSON.stringify(await ask('办护照要多少钱')).includes('120元'))).toBe(true);
    expect((await listReleases(t.server.db)).map((r) => r.kind)).toEqual(['rollback', 'release', 'seed']);
    expect((await getRelease(t.server.db, release.id, { files: true }))!.files!['guides/crj-01.md']).toContain('100元');
  });

  it('switches in a check asked while another is running, to what was published after that one began', async () => {
    const now = (await currentRelease(t.server.db, { files: true }))!;
    const withFee = (fee: number) => ({ ...now.files!, 'guides/crj-01.md': now.files!['guides/crj-01.md']!.replace(/普通护照每本\d+元/, `普通护照每本${fee}元`) });
    await publishRelease(t.server.db, withFee(110), { author: 'editor1', approver: 'editor2' });
    // A check on its way (the timer's, say): it has read the store and is building that release's index…
    const running = t.server.knowledge.check();
    await new Promise((r) => setTimeout(r, 50));
    // …when another release is published, and its publisher asks for a check.
    const later = await publishRelease(t.server.db, withFee(105), { author: 'editor1', approver: 'editor2' });
    await t.server.knowledge.check();
    expect(await running).toBe(true);
    expect(t.server.knowledge.release.id).toBe(later.id);
    expect(JSON.stringify(await ask('办护照要多少钱'))).toContain('105元');
    // Back to what the next test starts from.
    const back = await rollbackTo(t.server.db, now.id, { by: 'editor2' });
    await t.server.knowledge.check();
    expect(t.server.knowledge.release.id).toBe(back.id);
  });

  it('waits for a release whose effective time has not come', async () => {
    const now = (await currentRelease(t.server.db, { files: true }))!;
    const files = { ...now.files!, 'guides/crj-01.md': now.files!['guides/crj-01.md']!.replace('普通护照每本120元', '普通护照每本90元') };
    const effective = Date.now() + 4000;
    await publishRelease(t.server.db, files, { author: 'editor1', approver: 'editor2', effectiveAt: new Date(effective) });
    // Several checks pass before its time: the answer stays.
    await new Promise((r) => setTimeout(r, 800));
    const before = JSON.stringify(await ask('办护照要多少钱'));
    expect(Date.now()).toBeLessThan(effective);
    expect(before).toContain('120元');
    expect(await waitFor(async () => JSON.stringify(await ask('办护照要多少钱')).includes('90元'))).toBe(true);
  });
});
