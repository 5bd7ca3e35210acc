/**
 * The HTTP surface: health, the web chat page, POST /api/chat with its event stream,
 * POST /api/ask (one question, no context) and the staff API.
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Asker, MAX_QUESTION_CHARS, QuestionError } from '../ask.ts';
import { PROJECT_ROOT } from '../config.ts';
import type { DialogEngine } from '../engine.ts';
import type { PushHub } from '../push-hub.ts';
import type { Database } from '../store/database.ts';
import { isDatabaseUnavailable } from '../store/database-errors.ts';
import { logQuestion } from '../store/question-log.ts';
import type { KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { chatRoutes, type ChatLimits } from './chat-routes.ts';
import { CitizenSessions } from './citizen-session.ts';
import { handlersOnly, staffAuth, staffRoutes } from './staff-routes.ts';
import { outboxRoutes } from './outbox-routes.ts';
import { inboxRoutes } from './inbox-routes.ts';
import { accountRoutes } from './account-routes.ts';
import { metricsRoutes } from './metrics.ts';
import { requestIdOf, requestLog } from './request-log.ts';
import type { Logger } from '../log.ts';
import { Inbox } from '../inbox/inbox.ts';
import { InboxHub } from '../inbox/hub.ts';
import type { Replicas } from '../replicas/replicas.ts';
import { OUTBOX_STUCK_SECONDS, outboxHealth } from '../store/outbox.ts';
import { getStaff } from '../store/staff.ts';
import { caseRoutes } from './case-routes.ts';
import { localControlRoutes } from './local-control.ts';
import { knowledgeRoutes } from './knowledge-routes.ts';
import { statsRoutes } from './stats-routes.ts';
import type { LiveKnowledge } from '../../knowledge-base/live-knowledge.ts';
import type { Config } from '../config.ts';
import { staffPages } from './staff-pages.ts';
import { assistRoutes } from './assist-routes.ts';
import { HotlineAssistant } from '../assist/assistant.ts';
import type { CaseEvents } from '../cases/events.ts';
import { CHANNEL as WECOM_CHANNEL, type WecomChannel } from '../../integrations/wecom/channel.ts';

/** /readyz answers within 2 s: the database check gets this long. */
const READY_CHECK_MS = 1_500;
/** What a citizen reads, and when a client may try again, while the database is unreachable. */
const DATABASE_UNAVAILABLE_TEXT = '系统正在维护，请稍后再试。';
const RETRY_AFTER_SECONDS = 5;
const unavailable = (res: Response) => res.status(503).set('retry-after', String(RETRY_AFTER_SECONDS));

export interface AppDeps {
  kb: KnowledgeBase;
  db: Database;
  engine: DialogEngine;
  push: PushHub;
  staffApiToken?: string;
  caseEvents: CaseEvents;
  caseCallbackSecret: string;
  staffSessionHours: number;
  wecom?: WecomChannel | null;
  isShuttingDown: () => boolean;
  chatApiToken?: string;
  assistApiToken?: string;
  metricsToken?: string;
  trustProxy?: boolean | number | string;
  chatLimits: ChatLimits;
  handoffWaitMinutes: number;
  /** The knowledge served and the configuration it is built with (the editors' review runs the gate). */
  knowledge: { live: LiveKnowledge; config: Config };
  /** The token of `xiaoan staff …` beside this server on embedded PGlite (local-control.ts). */
  localControlToken?: string;
  /** The bureau's time zone, for the console (TZ). */
  timeZone?: string;
  log: Logger;
  /** Other processes on the same PostgreSQL: their consoles' events, one call's utterances at a time. */
  replicas?: Pick<Replicas, 'bus' | 'locks'>;
}

export function createApp(deps: AppDeps): { app: express.Express; closeStreams: () => void; inbox: Inbox } {
  const { kb, db, engine, push, staffApiToken, caseEvents, caseCallbackSecret, staffSessionHours, wecom, isShuttingDown } = deps;
  const app = express();
  const asker = new Asker(kb);
  const staff = staffAuth(db, staffApiToken);
  app.disable('x-powered-by');
  // JSON answers are never the same twice worth revalidating: no sha1 of every body (static files keep their own ETag).
  app.set('etag', false);
  // First: every answer, even a refusal by the middleware below, has a request id and a log line.
  const httpLog = deps.log.child({ component: 'http' });
  app.use(requestLog(httpLog));
  // X-Forwarded-* are believed only behind a proxy the operator names (TRUST_PROXY).
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  // Security headers on every page and API: a CSP without inline script, no framing, nosniff, a strict referrer.
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      referrerPolicy: { policy: 'same-origin' },
      // The chat is HTTP on a fresh machine; HSTS belongs to the HTTPS proxy in front of it.
      strictTransportSecurity: false,
    }),
  );
  // A request path that is not valid percent-encoding is the client's fault, not a 500.
  app.use((req, res, next) => {
    try {
      decodeURIComponent(req.path);
    } catch {
      return void res.status(400).json({ error: '请求地址编码有误 (malformed URL encoding)' });
    }
    next();
  });
  // Callbacks are verified over their raw bytes, so they are routed before the JSON parser.
  const caseApi = caseRoutes(engine, caseEvents, caseCallbackSecret, staff, db, { timeZone: deps.timeZone });
  app.use(caseApi.router);
  if (deps.localControlToken) app.use(localControlRoutes(db, deps.localControlToken, (id) => engine.caseRouter.has(id)));
  if (wecom) app.use(wecom.routes());
  app.use(express.json({ limit: '32kb' }));

  app.use(metricsRoutes({ db, token: deps.metricsToken, knowledge: deps.knowledge.live }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    if (isShuttingDown()) return void res.status(503).json({ ready: false, reason: 'shutting down' });
    // A probe is answered in time whatever the database does: a check that has not
    // answered within READY_CHECK_MS counts as a database that is not there.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), READY_CHECK_MS);
    });
    // Waiting calls are a warning for the operator; only an outbox stuck past
    // OUTBOX_STUCK_SECONDS makes this process unready (nothing gets through to the platform).
    const check = outboxHealth(db);
    check.catch(() => {}); // a check that loses the race may still fail later
    try {
      const outbox = await Promise.race([check, late]);
      if (outbox === 'late') return void unavailable(res).json({ ready: false, reason: 'database unavailable' });
      if ((outbox.oldestPendingSeconds ?? 0) > OUTBOX_STUCK_SECONDS) {
        return void unavailable(res).json({ ready: false, reason: `outbox stuck: the oldest waiting call is ${outbox.oldestPendingSeconds} s old`, outbox });
      }
      res.json({ ready: true, kb: { checksum: kb.index.meta.checksum.slice(0, 12), items: kb.index.meta.itemCount }, outbox });
    } catch {
      unavailable(res).json({ ready: false, reason: 'database unavailable' });
    } finally {
      clearTimeout(timer);
    }
  });

  // The web chat: static files served from this repository, no CDN.
  app.use(express.static(path.join(PROJECT_ROOT, 'web', 'chat'), { index: 'index.html', maxAge: '1h' }));

  const chat = chatRoutes(engine, push, db, new CitizenSessions(db, deps.chatApiToken), deps.chatLimits);
  app.use(chat.router);
  app.use(staffRoutes(db, staff));
  const assistant = new HotlineAssistant({ db, kb, asker, locks: deps.replicas?.locks });
  app.use(assistRoutes({ db, kb, asker, staff, token: deps.assistApiToken, assistant }));
  app.use(outboxRoutes(db, staff, handlersOnly, engine.cases));
  const inbox = new Inbox(db, engine, kb, new InboxHub().relay(deps.replicas?.bus ?? null, 'inbox'), {
    log: deps.log.child({ component: 'inbox' }),
    waitMinutes: deps.handoffWaitMinutes,
    isAgent: async (username) => {
      const a = await getStaff(db, username);
      return Boolean(a && !a.disabled && a.roles.includes('agent'));
    },
    assistant,
    budgetOf: async (channel, userId) => (wecom && channel === WECOM_CHANNEL ? wecom.budget(userId) : null),
  });
  inbox.listen();
  const inboxApi = inboxRoutes(db, staff, inbox, inbox.hub);
  app.use(inboxApi.router);
  app.use(accountRoutes(db, staff, engine.caseRouter.units));
  app.use(knowledgeRoutes(db, staff, deps.knowledge.config, deps.knowledge.live));
  app.use(
    statsRoutes(db, staff, {
      router: engine.caseRouter,
      guides: () => deps.knowledge.live.kb.set.guides,
      timeZone: deps.timeZone ?? 'Asia/Shanghai',
      warnings: deps.knowledge.config.warnings,
    }),
  );
  app.use(staffPages(db, staffSessionHours));

  app.post('/api/ask', async (req, res) => {
    const text = (req.body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || !text.trim()) {
      return void res.status(400).json({ error: '请提供问题内容 (body must be JSON with a non-empty "text")' });
    }
    if (text.length > MAX_QUESTION_CHARS) {
      return void res.status(400).json({ error: `问题太长了，请控制在 ${MAX_QUESTION_CHARS} 字以内` });
    }
    const r = await asker.ask(text);
    await logQuestion(db, 'api', r, kb.index.meta.checksum, kb.release);
    const { features: _f, namesService: _n, ...pub } = r;
    res.json(pub);
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  // Bad JSON and every other error: a clear message, never a stack trace, never a crash.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.parse.failed') return void res.status(400).json({ error: '请求体不是有效的 JSON (malformed JSON)' });
    if (err.type === 'entity.too.large') return void res.status(413).json({ error: '请求体过大 (request body too large)' });
    if (err.type === 'encoding.unsupported') return void res.status(415).json({ error: '不支持的内容编码 (unsupported Content-Encoding)' });
    if (err.type === 'charset.unsupported') return void res.status(415).json({ error: '不支持的字符集，请使用 UTF-8 (unsupported charset)' });
    // Any other client error the body parser found (a gzip body that is not gzip, an aborted upload…).
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) return void res.status(err.status).json({ error: '请求有误 (bad request)' });
    if (err instanceof QuestionError) return void res.status(400).json({ error: err.message });
    // The database cannot be reached (stopped, refusing, stalled past its timeouts): a
    // moment's wait, not a fault — 503 with Retry-After, never 500.
    if (isDatabaseUnavailable(err)) {
      httpLog.error({ requestId: requestIdOf(res), error: err.message }, 'database unavailable');
      return void unavailable(res).json({ error: DATABASE_UNAVAILABLE_TEXT });
    }
    httpLog.error({ requestId: requestIdOf(res), err }, 'request failed');
    res.status(500).json({ error: '服务暂时不可用，请稍后再试' });
  });
  return {
    app,
    inbox,
    closeStreams: () => {
      chat.closeStreams();
      inboxApi.closeStreams();
      caseApi.closeStreams();
    },
  };
}
