/** The WeCom client against the local simulator (real HTTP) and against nock for failures. */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../bot/store/database.ts';
import { WecomApiError, WecomClient } from '../../../integrations/wecom/client.ts';
import { WecomSimulator } from '../../../integrations/wecom/simulator.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';
import { useTempPglite } from '../../helpers/databases.ts';

const CORP = { corpId: 'wwtestcorp', secret: 'sim-secret', token: 'simtoken123', encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', openKfId: 'wkTEST' };

describe('WecomClient with the simulator', () => {
  const sim = new WecomSimulator(CORP);
  let dir = '';
  let db: Database;
  let client: WecomClient;
  beforeAll(async () => {
    dir = tempDir();
    db = await openDatabase({ dataDir: dir });
    const apiBase = await sim.start();
    client = new WecomClient({ apiBase, corpId: CORP.corpId, secret: CORP.secret, db, backoffMs: 1 });
  });
  afterAll(async () => {
    await sim.stop();
    await db.close();
    removeDir(dir);
  });

  it('caches the token in the store and shares it between clients', async () => {
    await client.syncMsg({ open_kfid: CORP.openKfId });
    const other = new WecomClient({ apiBase: sim.baseUrl, corpId: CORP.corpId, secret: CORP.secret, db });
    await other.syncMsg({ open_kfid: CORP.openKfId });
    await client.syncMsg({ open_kfid: CORP.openKfId });
    expect(sim.gettokenCalls).toBe(1);
  });

  it('refreshes an expired token once and retries the call', async () => {
    sim.expireTokens();
    await expect(client.syncMsg({ open_kfid: CORP.openKfId })).resolves.toMatchObject({ has_more: 0 });
    expect(sim.gettokenCalls).toBe(2);
  });

  it('pulls messages with a cursor and has_more', async () => {
    for (let i = 0; i < 3; i++) sim.citizenSays('citizen-a', `第${i}条`);
    const first = await client.syncMsg({ open_kfid: CORP.openKfId, limit: 2 });
    expect(first.msg_list).toHaveLength(2);
    expect(first.has_more).toBe(1);
    const rest = await client.syncMsg({ open_kfid: CORP.openKfId, cursor: first.next_cursor, limit: 2 });
    expect(rest.msg_list!.map((m) => (m.text as { content: string }).content)).toEqual(['第2条']);
    expect(rest.has_more).toBe(0);
  });

  it('keeps the 5-message budget and the session states, and returns the codes', async () => {
    sim.citizenSays('citizen-b', '你好');
    for (let i = 0; i < 5; i++) await client.sendMsg({ touser: 'citizen-b', open_kfid: CORP.openKfId, msgtype: 'text', text: { content: `回复${i}` } });
    await expect(client.sendMsg({ touser: 'citizen-b', open_kfid: CORP.openKfId, msgtype: 'text', text: { content: '第六条' } })).rejects.toMatchObject({ errcode: 95001 });
    // The same msgid again is the same message (idempotent), not a new one.
    sim.citizenSays('citizen-b', '还在吗');
    const a = await client.sendMsg({ touser: 'citizen-b', open_kfid: CORP.openKfId, msgid: 'm-1', msgtype: 'text', text: { content: 'x' } });
    const b = await client.sendMsg({ touser: 'citizen-b', open_kfid: CORP.openKfId, msgid: 'm-1', msgtype: 'text', text: { content: 'x' } });
    expect(a.msgid).toBe(b.msgid);
    expect(sim.sent.filter((m) => m.msgid === 'm-1')).toHaveLength(1);
    await expect(client.sendMsg({ touser: 'citizen-b', open_kfid: CORP.openKfId, msgtype: 'text', text: { content: '长'.repeat(700) } })).rejects.toMatchObject({ errcode: 44004 });
    await client.transServiceState({ open_kfid: CORP.openKfId, external_userid: 'citizen-b', service_state: 3, servicer_userid: 'staff01' });
    expect(await client.getServiceState(CORP.openKfId, 'citizen-b')).toMatchObject({ service_state: 3, servicer_userid: 'staff01' });
    await expect(client.sendMsg({ touser: 'citizen-b', open_kfid: CORP.openKfId, msgtype: 'text', text: { content: 'x' } })).rejects.toMatchObject({ errcode: 95018 });
    await expect(client.sendMsg({ touser: 'nobody', open_kfid: CORP.openKfId, msgtype: 'text', text: { content: 'x' } })).rejects.toMatchObject({ errcode: 95002 });
  });

  it('retries rate limiting (45009) and then succeeds', async () => {
    sim.failNext('/cgi-bin/kf/sync_msg', 45009);
    await expect(client.syncMsg({ open_kfid: CORP.openKfId })).resolves.toMatchObject({ errcode: 0 });
  });
});

describe('WecomClient error handling (nock)', () => {
  const store = useTempPglite();
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => {
    nock.enableNetConnect();
    nock.cleanAll();
  });

  it('retries 5xx, then reports a WeCom error code without retrying it', async () => {
    const api = 'http://qyapi.test';
    nock(api).get('/cgi-bin/gettoken').query(true).reply(200, { errcode: 0, access_token: 'T', expires_in: 7200 });
    nock(api).post('/cgi-bin/kf/send_msg').query({ access_token: 'T' }).reply(502, 'bad gateway');
    nock(api).post('/cgi-bin/kf/send_msg').query({ access_token: 'T' }).reply(200, { errcode: 0, msgid: 'ok1' });
    const client = new WecomClient({ apiBase: api, corpId: 'c', secret: 's', db: store.db, backoffMs: 1 });
    await expect(client.sendMsg({ touser: 'u', open_kfid: 'k', msgtype: 'text', text: { content: 'hi' } })).resolves.toMatchObject({ msgid: 'ok1' });
    const scope = nock(api).post('/cgi-bin/kf/send_msg').query(true).reply(200, { errcode: 95002, errmsg: 'over 48 hours' });
    const e = await client.sendMsg({ touser: 'u', open_kfid: 'k', msgtype: 'text', text: { content: 'hi' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WecomApiError);
    expect(e).toMatchObject({ errcode: 95002 });
    expect(scope.isDone()).toBe(true);
  });
});
