/**
 * `xiaoan`: the command line for editors, developers and CI.
 *   kb validate | kb build | kb export · ask · eval · serve · bench · retention · staff
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { Asker, type AskResult } from '../ask.ts';
import { loadCatalogue } from '../../knowledge-base/catalogue.ts';
import { readGuideSet } from '../../knowledge-base/guide-set.ts';
import { chunkGuides } from '../../knowledge-base/chunks.ts';
import { openKnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { loadTextPipeline } from '../../knowledge-base/text-pipeline.ts';
import { formatProblem, validateGuideSet } from '../../knowledge-base/validate.ts';
import { DatabaseInUseError, openDatabase, type Database } from '../store/database.ts';
import { publishKbVersion } from '../store/kb-versions.ts';
import { logQuestion } from '../store/question-log.ts';
import { progressBar } from './progress.ts';

class UsageError extends Error {}

function config(): Config {
  return loadConfig();
}

async function withDatabase<T>(c: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(c);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Public JSON shape of `ask --json` (internal features left out). */
function publicResult(r: AskResult) {
  return {
    query: r.query,
    normalized: r.normalized,
    intent: r.intent,
    item: r.item,
    candidates: r.candidates,
    aspect: r.aspect,
    confidence: r.confidence,
    answer: r.answer,
    latencyMs: r.latencyMs,
    ...(r.emergency ? { emergency: r.emergency } : {}),
    ...(r.situation ? { situation: r.situation } : {}),
  };
}

const program = new Command('xiaoan').description('小安：公安政务服务智能客服').showHelpAfterError();
const kb = program.command('kb').description('knowledge base: validate, build, export');

kb.command('validate')
  .description('check every guide against the catalogue and the format rules')
  .action(() => {
    const c = config();
    const set = readGuideSet(c.guidesDir);
    const text = loadTextPipeline(c.lexiconDir);
    const problems = validateGuideSet(set, loadCatalogue(c.cataloguePath), text.normalizer);
    for (const p of problems) console.error(formatProblem(p));
    const questions = set.guides.reduce((n, g) => n + g.questions.length, 0);
    if (problems.length) {
      console.error(`\n${problems.length} problem(s) in ${new Set(problems.map((p) => p.file)).size} file(s).`);
      process.exitCode = 1;
    } else {
      console.log(`OK: ${set.guides.length} guides, ${questions} 相似问, ${set.guides.filter((g) => g.situations.length).length} with 情形.`);
    }
  });

kb.command('build')
  .description('build the index (reused when unchanged) and publish it as the current version')
  .option('--by <name>', 'who publishes', process.env.USER || os.userInfo().username || 'cli')
  .action(async (o: { by: string }) => {
    const c = config();
    const bar = progressBar('建立索引');
    const started = performance.now();
    const base = await openKnowledgeBase(c, bar.update).finally(bar.stop);
    const ms = Math.round(performance.now() - started);
    await withDatabase(c, async (db) => {
      const { version, changed } = await publishKbVersion(db, base.index.meta, o.by);
      console.log(
        `${base.built ? `built in ${base.index.meta.buildMs} ms` : `reused the saved index (${ms} ms)`}: ` +
          `${base.index.meta.itemCount} items, ${base.index.meta.chunkCount} chunks, embeddings ${base.index.meta.embeddings}.`,
      );
      console.log(
        changed
          ? `published version ${version.id} (${version.checksum.slice(0, 12)}) by ${version.publishedBy}.`
          : `version ${version.id} (${version.checksum.slice(0, 12)}) is already current.`,
      );
    });
  });

kb.command('export')
  .description('every indexed chunk as JSON lines: {itemId, itemName, category, section, text}')
  .option('--format <format>', 'output format (jsonl)', 'jsonl')
  .option('--out <file>', 'write to a file instead of stdout')
  .action(async (o: { format: string; out?: string }) => {
    if (o.format !== 'jsonl') throw new UsageError(`unknown --format "${o.format}": only jsonl is supported`);
    const c = config();
    const set = readGuideSet(c.guidesDir);
    const out = o.out ? createWriteStream(o.out) : process.stdout;
    for (const ch of chunkGuides(set.guides)) {
      const row = { itemId: ch.itemId, itemName: ch.itemName, category: ch.category, section: ch.section, text: ch.text };
      out.write(`${JSON.stringify(ch.situation ? { ...row, situation: ch.situation } : row)}\n`);
    }
    if (o.out) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
  });

program
  .command('ask')
  .description('ask one question, or a file of questions (one a line)')
  .argument('[question...]', 'the question')
  .option('--json', 'print JSON (one object a line with --batch)')
  .option('--batch <file>', 'read questions from a file, one a line ("-" for stdin)')
  .option('--no-log', 'do not record the questions in the question log')
  .action(async (words: string[], o: { json?: boolean; batch?: string; log: boolean }) => {
    const question = words.join(' ').trim();
    if (!o.batch && !question) throw new UsageError('give a question, e.g. xiaoan ask "身份证丢了怎么办", or --batch FILE');
    if (o.batch && question) throw new UsageError('give either a question or --batch FILE, not both');
    if (o.batch && o.batch !== '-' && !existsSync(o.batch)) throw new UsageError(`--batch: no such file: ${o.batch}`);
    const c = config();
    const base = await openKnowledgeBase(c);
    const asker = new Asker(base);
    const db = o.log ? await openDatabase(c) : null;
    const print = (r: AskResult) => {
      if (o.json) console.log(JSON.stringify(publicResult(r)));
      else {
        console.log(`[${r.intent}${r.item ? ` ${r.item.id} ${r.item.name}` : ''}] aspect=${r.aspect} confidence=${r.confidence}`);
        if (r.answer) console.log(r.answer.text);
        console.log('');
      }
    };
    try {
      if (!o.batch) {
        const r = await asker.ask(question);
        if (db) await logQuestion(db, 'cli', r, base.index.meta.checksum);
        print(r);
        return;
      }
      const input = o.batch === '-' ? process.stdin : createReadStream(o.batch);
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (!line.trim()) {
          // Keep output aligned with input: an empty line gets an error object.
          if (o.json) console.log(JSON.stringify({ query: line, error: 'empty question' }));
          continue;
        }
        try {
          const r = await asker.ask(line);
          if (db) await logQuestion(db, 'cli', r, base.index.meta.checksum);
          print(r);
        } catch (e) {
          if (o.json) console.log(JSON.stringify({ query: line, error: (e as Error).message }));
          else console.error(`${line}: ${(e as Error).message}`);
        }
      }
    } finally {
      await db?.close();
    }
  });

program
  .command('eval')
  .description('measure retrieval and intent accuracy on the labelled sets in eval/datasets')
  .option('--dataset <files...>', 'JSONL files to evaluate (default: every file in eval/datasets)')
  .option('--fit', 'fit the confidence calibration on the dev set first and save it')
  .option('--out <dir>', 'where to write the reports', 'eval/reports')
  .action(async (o: { dataset?: string[]; fit?: boolean; out: string }) => {
    const { runEvalCommand } = await import('../../eval/run-eval.ts');
    process.exitCode = await runEvalCommand(config(), o);
  });

program
  .command('serve')
  .description('start 小安 on PORT (default 3000)')
  .action(async () => {
    const { startServer } = await import('../server/start.ts');
    await startServer(config());
  });

/**
 * An account change on the store. With PostgreSQL (DATABASE_URL) it runs beside a running
 * server; embedded PGlite admits one process per DATA_DIR, so beside a server it says what to do.
 */
async function withStaffStore<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const c = config();
  try {
    return await withDatabase(c, fn);
  } catch (e) {
    if (!(e instanceof DatabaseInUseError)) throw e;
    throw new UsageError(
      `数据目录 ${c.dataDir} 正被另一个小安进程（如运行中的服务）使用（内置数据库 PGlite 只允许一个进程打开），账号未改动。` +
        '请由系统管理员在工作台的“账号管理”（/staff/accounts）中操作；或先停止服务，执行本命令后再启动。' +
        '使用 PostgreSQL（DATABASE_URL）时本命令可在服务运行时执行。\n' +
        `(DATA_DIR ${c.dataDir} is in use by another xiaoan process, such as a running server; embedded PGlite admits one. Nothing was changed. ` +
        'Use the console\'s 账号管理 at /staff/accounts as an admin, or stop the server, run this command and start it again. ' +
        'With DATABASE_URL (PostgreSQL) this command works beside a running server.)',
    );
  }
}

const staffCmd = program.command('staff').description('staff accounts of the case desk');
staffCmd
  .command('add')
  .description('add a staff member (or reset their password and role); the password comes from XIAOAN_STAFF_PASSWORD or a prompt')
  .argument('<username>')
  .requiredOption('--role <roles>', 'one or more of agent (网办客服), hotline (热线坐席), handler (办理人员), editor (知识编辑), supervisor (督办人员), admin (系统管理员), comma-separated')
  .action(async (username: string, o: { role: string }) => {
    const { addStaff, parseRoles } = await import('../store/staff.ts');
    let roles;
    try {
      roles = parseRoles(o.role);
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
    let password = process.env.XIAOAN_STAFF_PASSWORD ?? '';
    if (!password) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      password = await new Promise<string>((resolve) => rl.question('密码（至少 10 位）：', resolve));
      rl.close();
    }
    const r = await withStaffStore((db) => addStaff(db, username, password.trim(), roles, 'cli'));
    console.log(
      r.created
        ? `staff member ${username} (${roles.join(', ')}) added.`
        : `staff member ${username} (${roles.join(', ')}) updated; their sessions have ended.${r.disabled ? ` The account is still disabled: xiaoan staff enable ${username}` : ''}`,
    );
  });
staffCmd
  .command('disable')
  .description('disable a staff account: it cannot log in and its sessions end at once')
  .argument('<username>')
  .action(async (username: string) => {
    const { setStaffDisabled } = await import('../store/staff.ts');
    if (!(await withStaffStore((db) => setStaffDisabled(db, username, true, 'cli')))) throw new UsageError(`no staff member ${username}`);
    console.log(`staff member ${username} disabled; their sessions have ended.`);
  });
staffCmd
  .command('enable')
  .description('enable a disabled staff account again')
  .argument('<username>')
  .action(async (username: string) => {
    const { setStaffDisabled } = await import('../store/staff.ts');
    if (!(await withStaffStore((db) => setStaffDisabled(db, username, false, 'cli')))) throw new UsageError(`no staff member ${username}`);
    console.log(`staff member ${username} enabled.`);
  });

program
  .command('demo-wechat')
  .description('a simulated citizen chats with 小安 over the WeCom protocol, offline (npm run demo:wechat)')
  .action(async () => {
    const { runWechatDemo } = await import('../../integrations/wecom/demo.ts');
    await runWechatDemo();
  });

program
  .command('wecom-sim')
  .description('run the local WeCom 微信客服 simulator; typed lines are a citizen')
  .option('--port <port>', 'port for the simulated WeCom API', '4100')
  .option('--callback <url>', "小安's callback URL", 'http://127.0.0.1:3000/wecom/callback')
  .option('--user <id>', 'the citizen external_userid', 'sim-citizen')
  .action(async (o: { port: string; callback: string; user: string }) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number');
    const { runSimulatorCli } = await import('../../integrations/wecom/demo.ts');
    await runSimulatorCli({ port, callback: o.callback, user: o.user });
  });

program
  .command('chat')
  .description('talk to 小安 in the terminal')
  .action(async () => {
    const { runChat } = await import('./chat.ts');
    await runChat(config());
  });

program
  .command('retention')
  .description('delete personal data older than RETENTION_DAYS now (the server also does this daily)')
  .action(async () => {
    const c = config();
    const { applyRetention } = await import('../store/retention.ts');
    const report = await withDatabase(c, (db) => applyRetention(db, c.retentionDays));
    console.log(`retention (${c.retentionDays} days):`, JSON.stringify(report));
  });

program
  .command('bench')
  .description('measure index build time and question latency')
  .action(async () => {
    const { runBench } = await import('../../eval/bench.ts');
    await runBench(config());
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof UsageError || e instanceof InvalidArgumentError) {
    console.error(`xiaoan: ${e.message}`);
    process.exit(2);
  }
  console.error(`xiaoan: ${(e as Error).message ?? e}`);
  if (process.env.LOG_LEVEL === 'debug') console.error(e);
  process.exit(1);
});
