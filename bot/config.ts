/**
 * All configuration, read from the environment and validated in one place.
 * Every bad value stops start-up with a message that names the variable and the fix.
 */
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from './paths.ts';
import { parseServiceHours, type ServiceHours } from './service-hours.ts';

/** The project folder (package.json), also when running compiled from dist/ (paths.ts). */
export { PROJECT_ROOT };

/** How long a PostgreSQL statement, and a connection attempt (or the wait for a free one), may take. */
export const DATABASE_TIMEOUT_DEFAULTS = { statementMs: 5_000, connectMs: 3_000 } as const;

const milliseconds = (name: string, fallback: number) =>
  z.coerce
    .number({ message: `${name} must be a number of milliseconds` })
    .int(`${name} must be a whole number of milliseconds`)
    .min(100, `${name} must be at least 100 (milliseconds)`)
    .max(600_000, `${name} must be at most 600000 (10 minutes)`)
    .default(fallback);

const optionalUrl = (name: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
      message: `${name} must be an http(s) URL, e.g. http://127.0.0.1:8000/v1`,
    });

const schema = z
  .object({
    PORT: z.coerce
      .number({ message: 'PORT must be a number' })
      .int('PORT must be a whole number')
      .min(0, 'PORT must be between 0 and 65535')
      .max(65535, 'PORT must be between 0 and 65535')
      .default(3000),
    DATA_DIR: z.string().trim().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v ? v : undefined))
      .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
        message: 'DATABASE_URL must start with postgres:// or postgresql://',
      }),
    DATABASE_STATEMENT_TIMEOUT_MS: milliseconds('DATABASE_STATEMENT_TIMEOUT_MS', DATABASE_TIMEOUT_DEFAULTS.statementMs),
    DATABASE_CONNECT_TIMEOUT_MS: milliseconds('DATABASE_CONNECT_TIMEOUT_MS', DATABASE_TIMEOUT_DEFAULTS.connectMs),
    GUIDES_DIR: z.string().trim().min(1).optional(),
    EMBEDDINGS_BASE_URL: optionalUrl('EMBEDDINGS_BASE_URL'),
    EMBEDDINGS_MODEL: z.string().trim().optional(),
    EMBEDDINGS_API_KEY: z.string().trim().optional(),
    LLM_BASE_URL: optionalUrl('LLM_BASE_URL'),
    LLM_MODEL: z.string().trim().optional(),
    LLM_API_KEY: z.string().trim().optional(),
    LLM_TIMEOUT_MS: z.coerce
      .number({ message: 'LLM_TIMEOUT_MS must be a number of milliseconds' })
      .int('LLM_TIMEOUT_MS must be a whole number of milliseconds')
      .min(100, 'LLM_TIMEOUT_MS must be at least 100')
      .max(10_000, 'LLM_TIMEOUT_MS must be at most 10000 (the citizen is waiting; the extractive answer is sent on timeout)')
      .default(2_000),
    EMBEDDINGS_DIMENSIONS: z.coerce
      .number({ message: 'EMBEDDINGS_DIMENSIONS must be a number' })
      .int()
      .positive('EMBEDDINGS_DIMENSIONS must be positive')
      .optional(),
    HANDOFF_MODE: z.enum(['none', 'queue'], { message: 'HANDOFF_MODE must be "none" (no human channel) or "queue" (staff take chats from the queue)' }).default('none'),
    SERVICE_HOURS: z
      .string()
      .trim()
      .min(1)
      .default('工作日 9:00–17:00')
      .superRefine((v, ctx) => {
        try {
          parseServiceHours(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      }),
    KB_RELEASE_CHECK_MS: z.coerce
      .number({ message: 'KB_RELEASE_CHECK_MS must be a number of milliseconds' })
      .int()
      .min(100, 'KB_RELEASE_CHECK_MS must be at least 100')
      .max(10_000, 'KB_RELEASE_CHECK_MS must be at most 10000 (a new release is in force everywhere within 10 s)')
      .default(5_000),
    TZ: z
      .string()
      .trim()
      .default('Asia/Shanghai')
      .transform((v) => v || 'Asia/Shanghai')
      .refine((v) => {
        try {
          new Intl.DateTimeFormat('zh-CN', { timeZone: v });
          return true;
        } catch {
          return false;
        }
      }, 'TZ must be an IANA time zone such as Asia/Shanghai'),
    WARN_OVERDUE_CASES: z.coerce.number({ message: 'WARN_OVERDUE_CASES must be a number' }).int().min(1, 'WARN_OVERDUE_CASES must be at least 1').default(3),
    WARN_BAD_RATINGS: z.coerce.number({ message: 'WARN_BAD_RATINGS must be a number' }).int().min(1, 'WARN_BAD_RATINGS must be at least 1').default(3),
    WARN_PERIOD_DAYS: z.coerce.number({ message: 'WARN_PERIOD_DAYS must be a number' }).int().min(1).max(366, 'WARN_PERIOD_DAYS must be at most 366').default(30),
    HANDOFF_WAIT_MINUTES: z.coerce
      .number({ message: 'HANDOFF_WAIT_MINUTES must be a number' })
      .positive('HANDOFF_WAIT_MINUTES must be positive')
      .max(120, 'HANDOFF_WAIT_MINUTES must be at most 120')
      .default(3),
    CONTEXT_TTL_MINUTES: z.coerce
      .number({ message: 'CONTEXT_TTL_MINUTES must be a number' })
      .positive('CONTEXT_TTL_MINUTES must be positive')
      .default(30),
    CASE_PLATFORM_URL: optionalUrl('CASE_PLATFORM_URL'),
    CASE_PLATFORM_KEY: z.string().trim().optional(),
    CASE_CALLBACK_SECRET: z.string().trim().min(16, 'CASE_CALLBACK_SECRET must be at least 16 characters').optional(),
    WECOM_CORP_ID: z.string().trim().optional(),
    WECOM_TOKEN: z.string().trim().optional(),
    WECOM_AES_KEY: z.string().trim().optional(),
    WECOM_SECRET: z.string().trim().optional(),
    WECOM_OPEN_KFID: z.string().trim().optional(),
    WECOM_API_BASE: optionalUrl('WECOM_API_BASE'),
    WECOM_SERVICER_USERID: z.string().trim().optional(),
    WECOM_AGENT_ID: z.coerce.number({ message: 'WECOM_AGENT_ID must be a number' }).int().positive().optional(),
    WECOM_STAFF_USERIDS: z.string().trim().optional(),
    STAFF_SESSION_HOURS: z.coerce.number({ message: 'STAFF_SESSION_HOURS must be a number' }).positive('STAFF_SESSION_HOURS must be positive').default(8),
    STAFF_API_TOKEN: z.string().trim().min(16, 'STAFF_API_TOKEN must be at least 16 characters').optional(),
    CHAT_API_TOKEN: z.string().trim().min(16, 'CHAT_API_TOKEN must be at least 16 characters').optional(),
    METRICS_TOKEN: z.string().trim().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
    ASSIST_API_TOKEN: z.string().trim().min(16, 'ASSIST_API_TOKEN must be at least 16 characters').optional(),
    TRUST_PROXY: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v ? v : undefined))
      .refine((v) => v === undefined || /^(true|false|\d+|[\d.:/a-f, ]+|loopback|linklocal|uniquelocal)$/i.test(v), {
        message: 'TRUST_PROXY must be true, a hop count, or the proxy addresses (as Express reads "trust proxy")',
      }),
    CHAT_RATE_PER_MINUTE: z.coerce.number({ message: 'CHAT_RATE_PER_MINUTE must be a number' }).int().positive('CHAT_RATE_PER_MINUTE must be positive').default(30),
    CHAT_RATE_PER_ADDRESS: z.coerce.number({ message: 'CHAT_RATE_PER_ADDRESS must be a number' }).int().positive('CHAT_RATE_PER_ADDRESS must be positive').default(300),
    RETENTION_DAYS: z.coerce.number({ message: 'RETENTION_DAYS must be a number' }).int('RETENTION_DAYS must be a whole number').min(1, 'RETENTION_DAYS must be at least 1').default(180),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent'], {
      message: 'LOG_LEVEL must be one of debug, info, warn, error, silent',
    }).default('info'),
  });

/** Rules across variables, checked on the raw environment so they report alongside the rest. */
function crossFieldProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const wecom = ['WECOM_CORP_ID', 'WECOM_TOKEN', 'WECOM_AES_KEY', 'WECOM_SECRET', 'WECOM_OPEN_KFID'];
  const set = wecom.filter((k) => env[k]?.trim());
  if (set.length && set.length < wecom.length) {
    problems.push(`WeChat channel: ${wecom.filter((k) => !env[k]?.trim()).join(', ')} missing (set all of ${wecom.join(', ')}, or none to run without WeChat)`);
  }
  if (env.WECOM_AES_KEY?.trim() && !/^[A-Za-z0-9+/]{43}$/.test(env.WECOM_AES_KEY.trim())) {
    problems.push('WECOM_AES_KEY: the EncodingAESKey must be 43 base64 characters');
  }
  if (Boolean(env.CASE_PLATFORM_URL?.trim()) !== Boolean(env.CASE_PLATFORM_KEY?.trim())) {
    problems.push('CASE_PLATFORM_URL and CASE_PLATFORM_KEY: set both to use an external case platform, or neither for the built-in desk');
  }
  if (env.CASE_PLATFORM_URL?.trim() && !env.CASE_CALLBACK_SECRET?.trim()) {
    problems.push('CASE_CALLBACK_SECRET: required with an external case platform, to verify its signed callbacks');
  }
  if (env.EMBEDDINGS_BASE_URL?.trim() && !env.EMBEDDINGS_MODEL?.trim()) {
    problems.push('EMBEDDINGS_MODEL: EMBEDDINGS_MODEL is required when EMBEDDINGS_BASE_URL is set (e.g. bge-m3)');
  }
  if (env.LLM_BASE_URL?.trim() && !env.LLM_MODEL?.trim()) {
    problems.push('LLM_MODEL: LLM_MODEL is required when LLM_BASE_URL is set (e.g. qwen2.5-7b-instruct), or unset LLM_BASE_URL to answer without a chat model');
  }
  return problems;
}

export interface Config {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL only: a statement longer than this is cancelled (and answered 503). */
  databaseStatementTimeoutMs: number;
  /** PostgreSQL only: connecting, or waiting for a free pooled connection, gives up after this. */
  databaseConnectTimeoutMs: number;
  guidesDir: string;
  lexiconDir: string;
  cataloguePath: string;
  embeddings:
    | { kind: 'hashed' }
    | { kind: 'openai'; baseURL: string; model: string; apiKey?: string; dimensions?: number };
  /**
   * Optional chat model that may rephrase answer units (integrations/llm); null when off.
   * apiKey is a secret: never log this object.
   */
  llm: { baseUrl: string; model: string; apiKey?: string; timeoutMs: number } | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  officesPath: string;
  handoffMode: 'none' | 'queue';
  serviceHours: string;
  /** The same hours as days and times, to know whether a person can answer now. */
  serviceSchedule: ServiceHours;
  /** How long a handed-over chat may wait for an agent before the citizen is offered 留言. */
  handoffWaitMinutes: number;
  /** A unit is warned (统计 and its handlers' console) at this many overdue open cases, or 差评 in the last `days`. */
  warnings: { overdueCases: number; badRatings: number; days: number };
  /** How often each process checks whether another knowledge release is in force. */
  releaseCheckMs: number;
  /** The bureau's time zone (TZ): staff pages show every time in it. */
  timeZone: string;
  contextTtlMinutes: number;
  /** An external case platform; without it the built-in desk takes cases. */
  casePlatform?: { baseUrl: string; apiKey: string };
  /** Secret of the signed case callbacks; the built-in desk makes one per start when unset. */
  caseCallbackSecret?: string;
  /** The 微信客服 channel, when configured. */
  wecom?: {
    corpId: string;
    token: string;
    aesKey: string;
    secret: string;
    openKfId: string;
    apiBase: string;
    servicerUserId?: string;
    staffAlert?: { agentId: number; touser: string };
  };
  /** How long a staff login lasts. */
  staffSessionHours: number;
  /** Bearer token for the staff API (hand-over queue, release); the staff API is off without it. */
  staffApiToken?: string;
  /** Bearer token of trusted integrations that may name their citizens' userId (channel "api"). */
  chatApiToken?: string;
  /** Bearer token of a hotline system that pushes callers' utterances to 热线助手 (POST /api/assist only). */
  assistApiToken?: string;
  /** Bearer token for GET /metrics; without it, only this machine may read them. */
  metricsToken?: string;
  /** Express "trust proxy": only then X-Forwarded-Proto / -For are believed. */
  trustProxy?: boolean | number | string;
  /** Messages, the question log and finished drafts are kept this many days; closed cases' contact fields too. */
  retentionDays: number;
  /** /api/chat turns per citizen, and requests per web client address, per minute. */
  chatLimits: { perCitizen: number; perAddress: number };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`配置有误 (configuration error):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates configuration; throws ConfigError listing every bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`)),
    ...crossFieldProblems(env),
  ];
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const c = parsed.data;
  const kb = path.join(PROJECT_ROOT, 'knowledge-base');
  return {
    port: c.PORT,
    dataDir: path.resolve(c.DATA_DIR),
    databaseUrl: c.DATABASE_URL,
    databaseStatementTimeoutMs: c.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseConnectTimeoutMs: c.DATABASE_CONNECT_TIMEOUT_MS,
    guidesDir: c.GUIDES_DIR ? path.resolve(c.GUIDES_DIR) : path.join(kb, 'guides'),
    lexiconDir: path.join(kb, 'lexicon'),
    cataloguePath: path.join(kb, 'catalogue.tsv'),
    embeddings: c.EMBEDDINGS_BASE_URL
      ? {
          kind: 'openai',
          baseURL: c.EMBEDDINGS_BASE_URL,
          model: c.EMBEDDINGS_MODEL!,
          apiKey: c.EMBEDDINGS_API_KEY || undefined,
          dimensions: c.EMBEDDINGS_DIMENSIONS,
        }
      : { kind: 'hashed' },
    llm: c.LLM_BASE_URL
      ? { baseUrl: c.LLM_BASE_URL, model: c.LLM_MODEL!, apiKey: c.LLM_API_KEY || undefined, timeoutMs: c.LLM_TIMEOUT_MS }
      : null,
    logLevel: c.LOG_LEVEL,
    officesPath: path.join(kb, 'offices.yaml'),
    handoffMode: c.HANDOFF_MODE,
    serviceHours: c.SERVICE_HOURS,
    serviceSchedule: parseServiceHours(c.SERVICE_HOURS),
    handoffWaitMinutes: c.HANDOFF_WAIT_MINUTES,
    warnings: { overdueCases: c.WARN_OVERDUE_CASES, badRatings: c.WARN_BAD_RATINGS, days: c.WARN_PERIOD_DAYS },
    timeZone: c.TZ,
    releaseCheckMs: c.KB_RELEASE_CHECK_MS,
    contextTtlMinutes: c.CONTEXT_TTL_MINUTES,
    staffApiToken: c.STAFF_API_TOKEN,
    staffSessionHours: c.STAFF_SESSION_HOURS,
    chatApiToken: c.CHAT_API_TOKEN,
    assistApiToken: c.ASSIST_API_TOKEN,
    metricsToken: c.METRICS_TOKEN,
    trustProxy: c.TRUST_PROXY === undefined ? undefined : /^true$/i.test(c.TRUST_PROXY) ? true : /^false$/i.test(c.TRUST_PROXY) ? false : /^\d+$/.test(c.TRUST_PROXY) ? Number(c.TRUST_PROXY) : c.TRUST_PROXY,
    retentionDays: c.RETENTION_DAYS,
    chatLimits: { perCitizen: c.CHAT_RATE_PER_MINUTE, perAddress: c.CHAT_RATE_PER_ADDRESS },
    wecom: c.WECOM_CORP_ID
      ? {
          corpId: c.WECOM_CORP_ID,
          token: c.WECOM_TOKEN!,
          aesKey: c.WECOM_AES_KEY!,
          secret: c.WECOM_SECRET!,
          openKfId: c.WECOM_OPEN_KFID!,
          apiBase: (c.WECOM_API_BASE ?? 'https://qyapi.weixin.qq.com').replace(/\/+$/, ''),
          servicerUserId: c.WECOM_SERVICER_USERID || undefined,
          staffAlert: c.WECOM_AGENT_ID && c.WECOM_STAFF_USERIDS ? { agentId: c.WECOM_AGENT_ID, touser: c.WECOM_STAFF_USERIDS } : undefined,
        }
      : undefined,
    caseCallbackSecret: c.CASE_CALLBACK_SECRET,
    casePlatform: c.CASE_PLATFORM_URL && c.CASE_PLATFORM_KEY ? { baseUrl: c.CASE_PLATFORM_URL, apiKey: c.CASE_PLATFORM_KEY } : undefined,
  };
}
