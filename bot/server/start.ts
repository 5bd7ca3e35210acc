/** `npm start`: open the store and the knowledge base, serve HTTP, shut down cleanly. */
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { currentKbVersion, publishKbVersion } from '../store/kb-versions.ts';
import { LiveKnowledge } from '../../knowledge-base/live-knowledge.ts';
import { checkFixed } from '../../knowledge-base/unanswered.ts';
import { createDialogEngine, type DialogEngine } from '../engine.ts';
import { PushHub } from '../push-hub.ts';
import { randomBytes } from 'node:crypto';
import { CaseEvents } from '../cases/events.ts';
import { newControlToken, removeControlFile, writeControlFile } from './local-control.ts';
import { createApp } from './app.ts';
import { CHANNEL as WECOM_CHANNEL, WecomChannel } from '../../integrations/wecom/channel.ts';
import { WecomClient } from '../../integrations/wecom/client.ts';
import { WecomCrypto } from '../../integrations/wecom/crypto.ts';
import { applyRetention } from '../store/retention.ts';
import { once, openReplicas, type Replicas } from '../replicas/replicas.ts';
import { createLogger, type DestinationStream } from '../log.ts';

const OUTBOX_RETRY_MS = 5_000;
/** The first retention run waits a little: a restart loop does not rerun it at every start. */
const RETENTION_FIRST_MS = 60_000;

export interface RunningServer {
  port: number;
  db: Database;
  push: PushHub;
  engine: DialogEngine;
  wecom: WecomChannel | null;
  /** The knowledge release served, switched live. */
  knowledge: LiveKnowledge;
  /** The express app (its routes are checked against the console's OpenAPI contract). */
  app: Express;
  close: () => Promise<void>;
}

export interface StartOptions {
  handleSignals?: boolean;
  /** Without the start-up lines (tests, the WeChat demo); warnings and errors are still logged. */
  quiet?: boolean;
  /** Where the JSON log lines go (stdout when not given; a test captures them). */
  logDestination?: DestinationStream;
}

export async function startServer(config: Config, o: StartOptions = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel, o.logDestination);
  const serverLog = logger.child({ component: 'server' });
  const log = (m: string) => !o.quiet && serverLog.info(m);
  // A background job that failed is logged and tried again at its next tick.
  const failed = (job: string) => (e: Error) => serverLog.error({ job, err: e }, `${job} failed`);
  const db = await openDatabase(config);
  let replicas: Replicas;
  try {
    replicas = await openReplicas(config, db, logger);
  } catch (e) {
    await db.close();
    throw e;
  }
  const { bus, leader } = replicas;
  // The release in force in the store (the shipped files seed the first), switched live.
  let live: LiveKnowledge;
  try {
    live = await LiveKnowledge.open(config, db, {
      onSwitch: async (release, k) => {
        await publishKbVersion(db, k.index.meta, `release:${release.id}`);
        serverLog.info({ release: release.id, checksum: release.checksum.slice(0, 12) }, `知识库已切换到版本 ${release.id}（${release.checksum.slice(0, 12)}）`);
        // The other replicas look at once rather than at their next check.
        await bus?.publish('knowledge', { release: release.id }).catch(failed('release notice'));
        // Unanswered questions linked to an item are asked again (by one replica): fixed when they now reach it.
        if (await once(db, `release-fixed:${release.id}`).catch(() => false)) await checkFixed(db, k, release).catch(failed('unanswered check'));
      },
    });
    const current = await currentKbVersion(db);
    if (current?.checksum !== live.kb.index.meta.checksum) await publishKbVersion(db, live.kb.index.meta, `release:${live.release.id}`);
  } catch (e) {
    await replicas.close();
    await db.close();
    throw e;
  }
  const kb = live.kb;
  bus?.subscribe('knowledge', (m) => {
    serverLog.info({ release: (m as { release?: number }).release }, 'knowledge release notice');
    return live.check().then(() => {}, failed('knowledge release check'));
  });
  // A notice missed while the bus was away: look now rather than at the next check.
  bus?.onResume(() => void live.check().catch(failed('knowledge release check')));
  log(`知识库：${kb.index.meta.itemCount} 个事项，${kb.built ? `新建索引 ${kb.index.meta.buildMs} ms` : '复用已有索引'}`);

  const push = new PushHub(bus);
  let wecom: WecomChannel | null = null;
  const engine = createDialogEngine(
    config,
    kb,
    db,
    (channel, userId, replies) => (channel === WECOM_CHANNEL && wecom ? wecom.push(userId, replies) : push.publish(channel, userId, replies)),
    { log: logger, locks: replicas.locks, bus },
  );
  if (config.wecom) {
    const w = config.wecom;
    wecom = new WecomChannel({
      db,
      engine,
      client: new WecomClient({ apiBase: w.apiBase, corpId: w.corpId, secret: w.secret, db }),
      crypto: new WecomCrypto(w.token, w.aesKey, w.corpId),
      openKfId: w.openKfId,
      servicerUserId: w.servicerUserId,
      staffAlert: w.staffAlert,
      log: logger.child({ component: 'wecom' }),
    });
  }
  const caseEvents = new CaseEvents(db, engine);
  // The built-in desk signs its callbacks with a secret of this process unless one is set.
  const caseCallbackSecret = config.caseCallbackSecret ?? randomBytes(24).toString('hex');
  // Calls that waited for the case platform are retried, and surveys reminded, in the background
  // (by one replica: the leader).
  let ticks = 0;
  const retry = setInterval(() => {
    if (!leader.isLeader()) return;
    engine.cases.retryDue().catch(failed('case outbox'));
    if (++ticks % 12 === 0) {
      caseEvents.remind().catch(failed('survey reminders'));
      // Drafts left unfinished (with the mobile and name typed so far) go when their context expires.
      engine.purgeExpiredDrafts().catch(failed('draft purge'));
    }
  }, OUTBOX_RETRY_MS);
  retry.unref();
  // Personal data past RETENTION_DAYS is deleted once a day (and once soon after start).
  const retain = () => {
    if (leader.isLeader()) void applyRetention(db, config.retentionDays).catch(failed('retention'));
  };
  const firstRetention = setTimeout(retain, RETENTION_FIRST_MS);
  firstRetention.unref();
  const retention = setInterval(retain, 86_400_000);
  retention.unref();
  let shuttingDown = false;
  // Embedded PGlite admits this process only: `xiaoan staff …` asks it (local-control.ts).
  const localControlToken = config.databaseUrl ? undefined : newControlToken();
  const { app, closeStreams, inbox } = createApp({
    knowledge: { live, config },
    localControlToken,
    kb,
    db,
    engine,
    push,
    staffApiToken: config.staffApiToken,
    caseEvents,
    caseCallbackSecret,
    staffSessionHours: config.staffSessionHours,
    wecom,
    isShuttingDown: () => shuttingDown,
    chatApiToken: config.chatApiToken,
    assistApiToken: config.assistApiToken,
    trustProxy: config.trustProxy,
    chatLimits: config.chatLimits,
    handoffWaitMinutes: config.handoffWaitMinutes,
    timeZone: config.timeZone,
    metricsToken: config.metricsToken,
    log: logger,
    replicas,
  });
  // Chats nobody took in time are handed back with 留言 offered; checked a few times per wait.
  const waitMs = config.handoffWaitMinutes * 60_000;
  const missed = setInterval(
    () => leader.isLeader() && void inbox.expireWaiting().catch(failed('inbox expiry')),
    Math.min(Math.max(waitMs / 4, 200), 5_000),
  );
  missed.unref();
  const server = app.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  live.start(config.releaseCheckMs, logger.child({ component: 'knowledge' }));
  if (localControlToken) writeControlFile(config.dataDir, { url: `http://127.0.0.1:${port}`, pid: process.pid, token: localControlToken });
  if (engine.desk) engine.cases.useCallbacks({ url: `http://127.0.0.1:${port}/cases/callback`, secret: caseCallbackSecret });
  log(`小安已启动：在浏览器打开 http://localhost:${port}/ （对话接口 POST /api/chat，健康检查 /healthz）`);
  if (wecom) {
    log(`微信客服通道已开启：回调地址 /wecom/callback（${config.wecom!.apiBase}）`);
    // Catch up on what arrived while 小安 was down (from the saved cursor), then pull on a timer
    // too, so a lost callback or a crashed pull is caught up without waiting for another callback.
    // The timer runs in the leader; a callback makes whichever replica received it pull (a
    // lease in the store keeps one pull at a time).
    const w = wecom;
    const follow = (leading: boolean) => (leading ? w.start() : w.stop());
    leader.onChange(follow);
    follow(leader.isLeader());
  }

  const close = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(retry);
    await live.stop();
    wecom?.stop();
    clearTimeout(firstRetention);
    clearInterval(missed);
    clearInterval(retention);
    // Stop accepting, end event streams, let turns in flight finish, then close the database.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    closeStreams();
    server.closeIdleConnections();
    await wecom?.idle();
    await engine.drain();
    await closed;
    if (localControlToken) removeControlFile(config.dataDir, localControlToken);
    await replicas.close();
    await db.close();
  };
  if (o.handleSignals !== false) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        log(`收到 ${sig}，正在停止…`);
        close().then(
          () => process.exit(0),
          (e: Error) => {
            serverLog.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { port, db, push, engine, wecom, knowledge: live, app, close };
}
