/**
 * `npm run demo:wechat`: a simulated citizen chats with 小安 over the WeCom protocol, all
 * offline — the local simulator stands in for WeCom, 小安 runs on a temporary DATA_DIR.
 * Also `xiaoan wecom-sim`: the simulator on its own, where typed lines are a citizen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../../bot/config.ts';
import { startServer } from '../../bot/server/start.ts';
import { WecomSimulator, type SentMessage } from './simulator.ts';

export const DEMO_CORP = {
  corpId: 'wwdemocorp0001',
  secret: 'demo-secret',
  token: 'demotoken0001',
  encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  openKfId: 'wkDEMO0001',
};

const show = (m: SentMessage) =>
  m.msgtype === 'msgmenu'
    ? [m.menu?.head_content ?? '', ...(m.menu?.list ?? []).map((x, i) => `  [${i + 1}] ${x.click?.content ?? ''}`)].join('\n')
    : (m.content ?? `(${m.msgtype})`);

async function waitForReplies(sim: WecomSimulator, from: number, quietMs = 400): Promise<SentMessage[]> {
  let seen = sim.sent.length;
  for (let idle = 0; idle < quietMs; idle += 50) {
    await new Promise((r) => setTimeout(r, 50));
    if (sim.sent.length !== seen) {
      seen = sim.sent.length;
      idle = 0;
    }
  }
  return sim.sent.slice(from);
}

export async function runWechatDemo(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiaoan-demo-'));
  const sim = new WecomSimulator(DEMO_CORP);
  const apiBase = await sim.start();
  const server = await startServer(
    {
      ...loadConfig({
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        WECOM_CORP_ID: DEMO_CORP.corpId,
        WECOM_TOKEN: DEMO_CORP.token,
        WECOM_AES_KEY: DEMO_CORP.encodingAesKey,
        WECOM_SECRET: DEMO_CORP.secret,
        WECOM_OPEN_KFID: DEMO_CORP.openKfId,
        WECOM_API_BASE: apiBase,
      }),
      port: 0,
    },
    { handleSignals: false, quiet: true },
  );
  (sim as unknown as { o: { callbackUrl: string } }).o.callbackUrl = `http://127.0.0.1:${server.port}/wecom/callback`;
  const citizen = 'demo-citizen';
  console.log(`微信客服演示（离线）：模拟器 ${apiBase}，小安 http://127.0.0.1:${server.port}\n`);
  try {
    const turn = async (label: string, act: () => void) => {
      const from = sim.sent.length;
      act();
      await sim.announce();
      console.log(`👤 群众：${label}`);
      for (const m of await waitForReplies(sim, from)) console.log(`🤖 小安：${show(m).replace(/\n/g, '\n         ')}\n`);
    };
    await turn('（打开微信客服会话）', () => sim.citizenEnters(citizen));
    await turn('身份证掉了咋整', () => sim.citizenSays(citizen, '身份证掉了咋整'));
    await turn('（点选“在户籍地补领”）', () => sim.citizenSays(citizen, '在户籍地补领', 'situation:0'));
    await turn('要多少钱', () => sim.citizenSays(citizen, '要多少钱'));
    await turn('有人在楼下拿刀砍人', () => sim.citizenSays(citizen, '有人在楼下拿刀砍人'));
    await turn('谢谢', () => sim.citizenSays(citizen, '谢谢'));
  } finally {
    await server.close();
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The simulator on its own: point 小安's WECOM_API_BASE at it; typed lines are a citizen. */
export async function runSimulatorCli(o: { port: number; callback: string; user: string }): Promise<void> {
  const sim = new WecomSimulator({ ...DEMO_CORP, callbackUrl: o.callback });
  const base = await sim.start(o.port);
  console.log(`WeCom 模拟器：${base}`);
  console.log(`小安请配置：WECOM_API_BASE=${base} WECOM_CORP_ID=${DEMO_CORP.corpId} WECOM_TOKEN=${DEMO_CORP.token} WECOM_AES_KEY=${DEMO_CORP.encodingAesKey} WECOM_SECRET=${DEMO_CORP.secret} WECOM_OPEN_KFID=${DEMO_CORP.openKfId}`);
  console.log(`回调地址：${o.callback}。输入文字即以群众 ${o.user} 的身份发送；输入 /enter 模拟进入会话，/human 转人工接待，/end 结束会话。`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for await (const line of rl) {
      const text = line.trim();
      if (!text) continue;
      const from = sim.sent.length;
      if (text === '/enter') sim.citizenEnters(o.user);
      else if (text === '/human') sim.sessionChanges(o.user, 3);
      else if (text === '/end') sim.sessionChanges(o.user, 4);
      else sim.citizenSays(o.user, text);
      try {
        await sim.announce();
      } catch (e) {
        console.log(`（回调失败：${(e as Error).message}）`);
      }
      for (const m of await waitForReplies(sim, from)) console.log(`小安：${show(m)}`);
    }
  } finally {
    rl.close();
    await sim.stop();
  }
}
