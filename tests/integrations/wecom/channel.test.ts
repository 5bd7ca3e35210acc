/** The 微信客服 channel against the local WeCom simulator, over real HTTP both ways. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config.ts';
import { startServer, type RunningServer } from '../../../bot/server/start.ts';
import { toWecomMessages } from '../../../integrations/wecom/channel.ts';
import { WecomCrypto } from '../../../integrations/wecom/crypto.ts';
import { WecomSimulator } from '../../../integrations/wecom/simulator.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';

const CORP = { corpId: 'wwsimcorp', secret: 'sim-secret', token: 'simtoken123', encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', openKfId: 'wkSIM' };

describe('toWecomMessages', () => {
  it('splits texts at 2048 bytes on character boundaries and turns menus into msgmenu', () => {
    const long = '身份证丢失补领需要本人到场，现场采集指纹。'.repeat(80);
    const msgs = toWecomMessages([{ type: 'text', text: long }, { type: 'menu', head: '还想了解哪方面？', items: [{ id: 'aspect:fees', label: '收费标准' }, { id: `ask:${'很长的问题'.repeat(10)}`, label: '长问题' }] }]);
    const texts = msgs.filter((m) => m.msgtype === 'text').map((m) => (m.msgtype === 'text' ? m.text.content : ''));
    expect(texts.length).toBeGreaterThan(1);
    for (const t of texts) expect(Buffer.byteLength(t)).toBeLessThanOrEqual(2048);
    expect(texts.join('')).toBe(long);
    const menu = msgs.at(-1)!;
    expect(menu.msgtype).toBe('msgmenu');
    if (menu.msgtype === 'msgmenu') expect(menu.msgmenu.list.map((x) => x.click.id)).toEqual(['aspect:fees', 'label:1']);
  });
});

const STAFF = 'staff-token-0123456789';

describe('微信客服 channel with the simulator', () => {
  const sim = new WecomSimulator(CORP);
  const dataDir = tempDir();
  let server: RunningServer;
  let base = '';
  const env = () => ({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    WECOM_CORP_ID: CORP.corpId,
    WECOM_TOKEN: CORP.token,
    WECOM_AES_KEY: CORP.encodingAesKey,
    WECOM_SECRET: CORP.secret,
    WECOM_OPEN_KFID: CORP.openKfId,
    WECOM_API_BASE: sim.baseUrl,
    HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时',
    STAFF_API_TOKEN: STAFF,
    WECOM_AGENT_ID: '1000002',
    WECOM_STAFF_USERIDS: 'staff01|staff02',
  });
  const start = async () => {
    server = await startServer({ ...loadConfig(env()), port: 0 }, { handleSignals: false, quiet: true });
    base = `http://127.0.0.1:${server.port}`;
    (sim as unknown as { o: { callbackUrl: string } }).o.callbackUrl = `${base}/wecom/callback`;
  };
  /** Waits until the background pull has finished. */
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 60));
      await server.wecom!.idle();
    }
  };
  const sentTo = (user: string) => sim.sent.filter((m) => m.touser === user);
  const textsTo = (user: string) => sentTo(user).map((m) => m.content ?? m.menu?.head_content ?? '');

  beforeAll(async () => {
    await sim.start();
    await start();
  });
  afterAll(async () => {
    await server.close();
    await sim.stop();
    removeDir(dataDir);
  });

  it('answers the URL verification with the decrypted echostr, and refuses forgeries', async () => {
    const c = new WecomCrypto(CORP.token, CORP.encodingAesKey, CORP.corpId);
    const echostr = c.encrypt('8472612093847');
    const now = String(Math.floor(Date.now() / 1000));
    const sig = c.signature(now, 'n1', echostr);
    const q = (s: string) => `${base}/wecom/callback?msg_signature=${s}&timestamp=${now}&nonce=n1&echostr=${encodeURIComponent(echostr)}`;
    const ok = await fetch(q(sig));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('8472612093847');
    expect((await fetch(q('0'.repeat(40)))).status).toBe(401);
    const forged = await fetch(`${base}/wecom/callback?msg_signature=${'0'.repeat(40)}&timestamp=1&nonce=n`, { method: 'POST', body: '<xml><Encrypt>abc</Encrypt></xml>' });
    expect(forged.status).toBe(401);
    expect((await fetch(`${base}/wecom/callback?msg_signature=x&timestamp=1&nonce=n`, { method: 'POST', body: 'not xml' })).status).toBe(400);
  });

  it('gives one reply when the same callback arrives three times (the repeats are refused as replays)', async () => {
    sim.citizenSays('c1', '身份证丢了补办要多少钱');
    expect(await sim.announce(3)).toEqual([200, 403, 403]);
    await settle();
    const texts = textsTo('c1');
    expect(texts.filter((t) => t.includes('40 元'))).toHaveLength(1);
    expect(sentTo('c1').at(-1)!.msgtype).toBe('msgmenu');
  });

  it('answers a burst of five messages in order, sharing one budget', async () => {
    const qs = ['身份证丢了要带什么', '公积金怎么提取', '你好', '明天天气怎么样', '转人工'];
    for (const q of qs) sim.citizenSays('c2', q);
    await sim.announce();
    await settle();
    const heads = sentTo('c2').map((m) => m.content ?? m.menu?.head_content ?? '');
    expect(heads).toHaveLength(5);
    const order = ['请问您属于哪种情形', '公积金管理中心', '您好，我是小安', '天气', '已为您转接人工客服'].map((s) => heads.findIndex((h) => h.includes(s)));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // 转人工 in queue mode: the session stays with 小安's API (state 1) for the console's inbox, and staff got a summary.
    expect(sim.state('c2')).toBe(1);
    const inbox = (await (await fetch(`${base}/api/staff/inbox`, { headers: { authorization: `Bearer ${STAFF}` } })).json()) as { items: Array<{ id: number; channel: string; userId: string }> };
    const chat = inbox.items.find((i) => i.channel === 'wecom' && i.userId === 'c2')!;
    const staffPost = (path: string, body: unknown = {}) =>
      fetch(`${base}/api/staff/inbox/${chat.id}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${STAFF}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
    await staffPost('accept');
    // The burst used the 5-message budget: the agent's reply waits, and the console shows why.
    expect(await staffPost('reply', { text: '您好，我是网办中心工作人员。' })).toEqual({ delivered: false });
    const detail = await (await fetch(`${base}/api/staff/inbox/${chat.id}`, { headers: { authorization: `Bearer ${STAFF}` } })).json();
    expect(detail.budget).toMatchObject({ left: 0 });
    // The citizen writes again: a new budget, and the agent's next reply goes through send_msg.
    sim.citizenSays('c2', '在吗');
    await sim.announce();
    await settle();
    expect(await staffPost('reply', { text: '在的，请说。' })).toEqual({ delivered: true });
    expect(textsTo('c2').at(-1)).toBe('在的，请说。');
    await staffPost('release');
    const alert = sim.appMessages.at(-1) as { touser: string; agentid: number; text: { content: string } };
    expect(alert).toMatchObject({ touser: 'staff01|staff02', agentid: 1000002 });
    expect(alert.text.content).toContain('小安转人工');
    expect(alert.text.content).toContain('· 转人工');
  });

  it('says nothing while a human owns the chat, and speaks again when the session ends', async () => {
    sim.citizenSays('c3', '你好');
    await sim.announce();
    await settle();
    const before = sentTo('c3').length;
    sim.sessionChanges('c3', 3);
    sim.citizenSays('c3', '身份证丢了怎么补');
    await sim.announce();
    await settle();
    expect(sentTo('c3').length).toBe(before);
    sim.sessionChanges('c3', 4);
    sim.citizenSays('c3', '护照多少钱');
    (sim as unknown as { citizen: (u: string) => { state: number } }).citizen('c3').state = 1;
    await sim.announce();
    await settle();
    expect(sentTo('c3').length).toBeGreaterThan(before);
  });

  it('keeps within the 5-message budget and sends the rest on "继续"', async () => {
    sim.citizenSays('c4', '无犯罪记录证明要多少钱');
    await sim.announce();
    await settle();
    expect(sentTo('c4')).toHaveLength(2);
    const notice = [{ type: 'text' as const, text: '您的诉求已办结。' }, { type: 'text' as const, text: '请评价。' }];
    expect(await server.wecom!.push('c4', notice)).toBe(1);
    expect(sentTo('c4')).toHaveLength(4);
    await server.wecom!.push('c4', [{ type: 'text', text: '第一条' }, { type: 'text', text: '第二条' }]);
    expect(sentTo('c4')).toHaveLength(5);
    expect(sentTo('c4').at(-1)!.content).toContain('回复“继续”查看更多');
    expect(await server.wecom!.push('c4', notice)).toBe(0);
    sim.citizenSays('c4', '继续');
    await sim.announce();
    await settle();
    expect(textsTo('c4').slice(-2)).toEqual(['第一条', '第二条']);
  });

  it('refreshes an expired token and welcomes a citizen who enters', async () => {
    sim.expireTokens();
    sim.citizenEnters('c5');
    await sim.announce();
    await settle();
    expect(sentTo('c5')[0]!.menu?.head_content).toContain('您好，我是小安');
  });

  it('resumes from the saved cursor after a restart, with no replay', async () => {
    await server.close();
    const sentBefore = sim.sent.length;
    sim.citizenSays('c6', '驾照到期怎么换');
    await start();
    await settle();
    const after = sim.sent.slice(sentBefore);
    expect(after.every((m) => m.touser === 'c6')).toBe(true);
    expect(after.length).toBeGreaterThan(0);
  });
});
