/**
 * `xiaoan`: the command line for editors, developers and CI.
 *   kb validate | kb build | kb export · ask · eval · serve · bench · retention · staff
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { Asker, type AskResult } from '../ask.ts';
import { loadCatalogue } from '../../knowledge-base/catalogue.ts';
import { readGuideSet } from '../../knowledge-base/guide-set.ts';
import { chunkGuides } from '../../knowledge-base/chunks.ts';
import { openKnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { loadTextPipeline } from '../../knowledge-base/text-pipeline.ts';
import { englishProblems, formatProblem, validateGuideSet } from '../../knowledge-base/validate.ts';
import { DatabaseInUseError, openDatabase, type Database } from '../store/database.ts';
import type { KbCommand, StaffCommand, StaffCommandResult } from '../server/local-control.ts';
import type { KbDraft, KbRelease } from '../../knowledge-base/releases.ts';
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
    // English out of step is a warning: those lines are answered in Chinese until it is fixed.
    const english = englishProblems(set);
    for (const p of english) console.error(`warning: ${formatProblem(p)}`);
    if (english.length) console.error(`${english.length} English line(s) out of step with the Chinese; they are answered in Chinese until fixed.\n`);
    const questions = set.guides.reduce((n, g) => n + g.questions.length, 0);
    if (problems.length) {
      console.error(`\n${problems.length} problem(s) in ${new Set(problems.map((p) => p.file)).size} file(s).`);
      process.exitCode = 1;
    } else {
      console.log(`OK: ${set.guides.length} guides, ${questions} 相似问, ${set.guides.filter((g) => g.situations.length).length} with 情形, ${set.english.size} in English.`);
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
  .description('jsonl: every indexed chunk as JSON lines {itemId, itemName, category, section, text}; md: a release of the store written back to files (guides/, lexicon/)')
  .option('--format <format>', 'jsonl (chunks) or md (a release as files)', 'jsonl')
  .option('--out <path>', 'jsonl: a file instead of stdout; md: the folder to write (required)')
  .option('--release <id>', 'md: which release (default: the one in force)')
  .action(async (o: { format: string; out?: string; release?: string }) => {
    const c = config();
    if (o.format === 'md') {
      if (!o.out) throw new UsageError('--out DIR is required with --format md');
      if (o.release !== undefined && !/^\d+$/.test(o.release)) throw new UsageError('--release must be a release number');
      const { writeKbFiles } = await import('../../knowledge-base/releases.ts');
      const { release } = await runKb<{ release: KbRelease | null }>({ op: 'export', ...(o.release ? { release: Number(o.release) } : {}) });
      if (!release) throw new UsageError(`no release ${o.release}`);
      writeKbFiles(release.files!, o.out);
      console.log(`release ${release.id} (${release.checksum.slice(0, 12)}, ${release.fileCount} files) written to ${o.out}`);
      return;
    }
    if (o.format !== 'jsonl') throw new UsageError(`unknown --format "${o.format}": jsonl or md`);
    const set = readGuideSet(c.guidesDir);
    const out = o.out ? createWriteStream(o.out) : process.stdout;
    for (const ch of chunkGuides(set.guides)) {
      const row = { itemId: ch.itemId, itemName: ch.itemName, category: ch.category, section: ch.section, text: ch.text };
      out.write(`${JSON.stringify(ch.situation ? { ...row, situation: ch.situation } : row)}\n`);
    }
    if (o.out) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
  });

kb.command('import')
  .description('make a draft from a folder of files (DIR/guides/*.md, DIR/lexicon/*; a missing lexicon keeps the one in force), validated, for review')
  .argument('<dir>')
  .option('--note <text>', 'what the draft changes')
  .option('--by <name>', 'the author', process.env.USER || os.userInfo().username || 'cli')
  .action(async (dir: string, o: { note?: string; by: string }) => {
    const c = config();
    const { readKbFiles } = await import('../../knowledge-base/releases.ts');
    const guidesDir = path.join(dir, 'guides');
    if (!existsSync(guidesDir)) throw new UsageError(`${dir}: no guides folder (expected ${guidesDir})`);
    const ownLexicon = existsSync(path.join(dir, 'lexicon'));
    const lexiconDir = ownLexicon ? path.join(dir, 'lexicon') : c.lexiconDir;
    const files = readKbFiles(guidesDir, lexiconDir);
    const set = readGuideSet(guidesDir);
    const problems = validateGuideSet(set, loadCatalogue(c.cataloguePath), loadTextPipeline(lexiconDir).normalizer);
    // Without a lexicon folder the draft keeps the lexicon of the release in force.
    const { draft, changes } = await runKb<{ draft: KbDraft; changes: { added: string[]; changed: string[]; removed: string[] } }>({
      op: 'import',
      files,
      keepLexicon: !ownLexicon,
      by: o.by,
      ...(o.note ? { note: o.note } : {}),
    });
    for (const p of problems) console.error(formatProblem(p));
    console.log(
      `draft ${draft.id} by ${draft.author} on release ${draft.baseRelease ?? '—'}: ${changes.added.length} added, ${changes.changed.length} changed, ${changes.removed.length} removed` +
        (problems.length ? `; ${problems.length} problem(s) to fix before it can be published.` : '; valid.'),
    );
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
 * Work on the store. On PostgreSQL (DATABASE_URL), or on PGlite with no server running, it
 * is done on the store itself; beside a server running on the same DATA_DIR (PGlite admits
 * one process) the server is asked to do it (local-control.ts), with the same function.
 */
async function onStore<T>(route: 'staff' | 'kb', cmd: unknown, run: (db: Database) => Promise<T>, elsewhere: { zh: string; en: string }): Promise<T> {
  const c = config();
  try {
    return await withDatabase(c, run);
  } catch (e) {
    if (!(e instanceof DatabaseInUseError)) throw e;
  }
  const { viaRunningServer } = await import('../server/local-control.ts');
  let viaServer: T | null;
  try {
    viaServer = await viaRunningServer<T>(c.dataDir, route, cmd);
  } catch (e) {
    throw new UsageError(`运行中的小安服务拒绝了该操作：${(e as Error).message} (the running server refused: ${(e as Error).message})`);
  }
  if (viaServer) return viaServer;
  throw new UsageError(
    `数据目录 ${c.dataDir} 正被另一个小安进程使用（内置数据库 PGlite 只允许一个进程打开），且它不接受此命令，未做任何改动。请稍后再试，或${elsewhere.zh}。\n` +
      `(DATA_DIR ${c.dataDir} is in use by another xiaoan process that takes no such command; nothing was changed. Try again when it has finished, or ${elsewhere.en}.)`,
  );
}

/** An account change, audited as `cli` either way. */
async function runStaff(cmd: StaffCommand): Promise<StaffCommandResult> {
  const { runStaffCommand } = await import('../server/local-control.ts');
  return onStore('staff', cmd, (db) => runStaffCommand(db, cmd), {
    zh: '由系统管理员在工作台的“账号管理”（/staff/accounts）中操作',
    en: "use the console's 账号管理 at /staff/accounts as an admin",
  });
}

/** A release read or a draft made from files, on the store or through the running server. */
async function runKb<T>(cmd: KbCommand): Promise<T> {
  const c = config();
  const { runKbCommand } = await import('../server/local-control.ts');
  const { readKbFiles, seedRelease } = await import('../../knowledge-base/releases.ts');
  return onStore(
    'kb',
    cmd,
    async (db) => {
      await seedRelease(db, () => readKbFiles(c.guidesDir, c.lexiconDir));
      return (await runKbCommand(db, cmd)) as T;
    },
    { zh: '在工作台的“知识库”（/staff/knowledge）中操作', en: "use the console's 知识库 at /staff/knowledge as an editor" },
  );
}

const staffCmd = program.command('staff').description('staff accounts (works beside a running server)');
staffCmd
  .command('add')
  .description('add a staff member (or reset their password and roles); the password comes from XIAOAN_STAFF_PASSWORD or a prompt')
  .argument('<username>')
  .requiredOption('--role <roles>', 'one or more of agent (网办客服), hotline (热线坐席), handler (办理人员), editor (知识编辑), supervisor (督办人员), admin (系统管理员), comma-separated')
  .option('--unit <unit>', 'the unit of the organisation (an id of integrations/case-platform/desk/routing.yaml, e.g. pcs-renmin; sj is the bureau)')
  .option('--name <displayName>', 'the name shown to colleagues, e.g. 王警官')
  .action(async (username: string, o: { role: string; unit?: string; name?: string }) => {
    const { parseRoles } = await import('../store/staff.ts');
    let roles;
    try {
      roles = parseRoles(o.role);
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
    if (o.unit !== undefined) {
      const { loadRouting } = await import('../../integrations/case-platform/desk/router.ts');
      const routing = loadRouting();
      if (!routing.has(o.unit)) throw new UsageError(`--unit: unknown unit "${o.unit}"; one of ${routing.units.map((u) => u.id).join(', ')}`);
    }
    let password = process.env.XIAOAN_STAFF_PASSWORD ?? '';
    if (!password) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      password = await new Promise<string>((resolve) => rl.question('密码（至少 10 位）：', resolve));
      rl.close();
    }
    const r = await runStaff({ op: 'add', username, password: password.trim(), roles, ...(o.unit !== undefined ? { unit: o.unit } : {}), ...(o.name !== undefined ? { displayName: o.name } : {}) });
    if (r.op !== 'add') return;
    console.log(
      r.created
        ? `staff member ${username} (${roles.join(', ')}) added.`
        : `staff member ${username} (${roles.join(', ')}) updated; their sessions have ended.${r.disabled ? ` The account is still disabled: xiaoan staff enable ${username}` : ''}`,
    );
  });
for (const [op, description, done] of [
  ['disable', 'disable a staff account: it cannot log in and its sessions end at once', 'disabled; their sessions have ended.'],
  ['enable', 'enable a disabled staff account again', 'enabled.'],
] as const) {
  staffCmd
    .command(op)
    .description(description)
    .argument('<username>')
    .action(async (username: string) => {
      const r = await runStaff({ op, username });
      if (r.op !== 'add' && !r.found) throw new UsageError(`no staff member ${username}`);
      console.log(`staff member ${username} ${done}`);
    });
}

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
