import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config.ts';
import { composeAnswer, stripCitations, type ComposeInput, type GuardVerdict } from '../../../integrations/llm/compose.ts';
import { createChatClient, type ChatClient } from '../../../integrations/llm/index.ts';
import { termsFromGuides } from '../../../integrations/llm/grounding-guard.ts';
import { startFakeLlm, type FakeLlm } from '../../helpers/fake-llm.ts';

const KEY = 'sk-fake-secret-key-4242';
const SOURCE_FEE = '《普通护照首次申领》办事指南·收费标准';
const SOURCE_TIME = '《普通护照首次申领》办事指南·办理时限';

const input: ComposeInput = {
  question: '第一次办护照要多少钱，多久能拿到？',
  units: [
    { n: 1, text: '普通护照每本120元（自2019年7月1日起执行）。', source: SOURCE_FEE },
    { n: 2, text: '法定时限：自收到申请材料之日起15日内签发。', source: SOURCE_TIME },
    { n: 3, text: '在户籍地申请的，自2018年9月1日起全国承诺7个工作日内签发。', source: SOURCE_TIME },
  ],
  extractive: '普通护照每本120元（自2019年7月1日起执行）。\n法定时限：自收到申请材料之日起15日内签发。\n（来源：《普通护照首次申领》办事指南·收费标准、办理时限）',
  lang: 'zh',
};
const terms = { terms: termsFromGuides(['- 本人居民身份证或户口簿', '- 网上：交管12123 App。', '- 国家移民管理局政务服务平台']) };

const GROUNDED = '首次办护照每本收费120元[1]，一般15日内签发[2]，在户籍地办理的7个工作日内可签发[3]。';
const INVENTED_FEES = ['60元', '100元', '150元', '200元', '80元'];
const inventing = (fee: string) => `首次办护照收费${fee}[1]，15日内签发[2]。`;

describe('composeAnswer over a local OpenAI-compatible server', () => {
  let fake: FakeLlm;
  let client: ChatClient;
  let verdicts: GuardVerdict[];
  const compose = (over: Partial<ComposeInput> = {}, c: ChatClient | null = client) =>
    composeAnswer({ ...input, ...over }, { client: c, terms, log: (v) => verdicts.push(v) });

  beforeAll(async () => {
    fake = await startFakeLlm();
    // Through configuration, as the bot makes it; 1 s: short enough for the slow case, long enough for a loaded machine.
    client = createChatClient(loadConfig({ LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'qwen-fake', LLM_API_KEY: KEY, LLM_TIMEOUT_MS: '1000' }).llm)!;
  });
  beforeEach(() => {
    fake.reset();
    verdicts = [];
  });
  afterAll(() => fake.close());

  it('sends a grounded reply, without [n] markers, with a 来源 line from the cited units', async () => {
    fake.script({ reply: GROUNDED });
    const r = await compose();
    expect(r.verdict).toMatchObject({ used: 'llm', reason: 'ok' });
    expect(r.verdict.unsupported).toBeUndefined();
    expect(r.text).toBe(`首次办护照每本收费120元，一般15日内签发，在户籍地办理的7个工作日内可签发。\n来源：${SOURCE_FEE}；${SOURCE_TIME}`);
    expect(verdicts).toEqual([r.verdict]);
  });

  it('carries the model, the bearer key, the question and every unit text in the request', async () => {
    fake.script({ reply: GROUNDED });
    await compose();
    const [req] = fake.requests;
    expect(req!.body.model).toBe('qwen-fake');
    expect(req!.body.temperature).toBe(0);
    expect(req!.headers.authorization).toBe(`Bearer ${KEY}`);
    const [system, user] = req!.body.messages;
    expect(system!.role).toBe('system');
    expect(system!.content).toMatch(/只能依据.*编号/);
    expect(system!.content).toContain('150字');
    expect(system!.content).toContain('[1]');
    expect(user!.content).toContain(input.question);
    for (const u of input.units) expect(user!.content).toContain(`[${u.n}] ${u.text}`);
  });

  it('asks in English for an English answer', async () => {
    fake.script({ reply: 'A passport costs 120 yuan [1].' });
    const r = await compose({ lang: 'en', question: 'How much is a passport?', units: [{ n: 1, text: 'The fee is 120 yuan per passport.', source: 'First passport · Fees' }], extractive: 'The fee is 120 yuan per passport.' });
    expect(fake.requests[0]!.body.messages[0]!.content).toMatch(/Answer only from the numbered/);
    expect(r).toEqual({ text: 'A passport costs 120 yuan.\nSources: First passport · Fees', verdict: expect.objectContaining({ used: 'llm', reason: 'ok' }) });
  });

  it('sends the extractive answer when the model invents a fee, naming the fee', async () => {
    fake.script({ reply: inventing('60元') });
    const r = await compose();
    expect(r.text).toBe(input.extractive);
    expect(r.verdict).toMatchObject({ used: 'extractive', reason: 'ungrounded' });
    expect(r.verdict.unsupported).toContain('60元');
    expect(verdicts).toHaveLength(1);
  });

  it('sends the extractive answer on a timeout', async () => {
    fake.script({ reply: GROUNDED, delayMs: 5_000 });
    const r = await compose();
    expect(r.text).toBe(input.extractive);
    expect(r.verdict).toMatchObject({ used: 'extractive', reason: 'timeout' });
  });

  it('sends the extractive answer on HTTP 500, malformed JSON and empty choices', async () => {
    fake.script({ status: 500 }, { malformed: true }, { noChoices: true });
    for (let i = 0; i < 3; i++) {
      const r = await compose();
      expect(r.text).toBe(input.extractive);
      expect(r.verdict).toMatchObject({ used: 'extractive', reason: 'error' });
    }
    expect(verdicts).toHaveLength(3);
  });

  it('sends the extractive answer for an unreachable endpoint', async () => {
    const down = createChatClient({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKey: KEY, timeoutMs: 1_000 })!;
    await expect(compose({}, down)).resolves.toMatchObject({ text: input.extractive, verdict: { reason: 'error' } });
  });

  it('does not ask the model when off or with no units', async () => {
    await expect(compose({}, null)).resolves.toMatchObject({ text: input.extractive, verdict: { used: 'extractive', reason: 'disabled' } });
    await expect(compose({ units: [] })).resolves.toMatchObject({ verdict: { reason: 'disabled' } });
    expect(fake.requests).toHaveLength(0);
    expect(verdicts).toHaveLength(2);
  });

  it('sends the extractive answer for a reply that is too long, cites nothing or cites a unit not given', async () => {
    const long = `${'普通护照每本120元，'.repeat(30)}[1]`;
    fake.script({ reply: long }, { reply: '护照每本120元，15日内签发。' }, { reply: '护照每本120元[1]，可在交管12123办理[4]。' }, { reply: '无法回答[1]' });
    expect((await compose()).verdict).toMatchObject({ used: 'extractive', reason: 'too_long' });
    expect((await compose()).verdict).toMatchObject({ reason: 'ungrounded', unsupported: ['[无引用]', '120元', '15日'] });
    expect((await compose()).verdict).toMatchObject({ reason: 'ungrounded', unsupported: ['[4]', '12123', '交管12123'] });
    expect((await compose()).verdict).toMatchObject({ reason: 'ungrounded' });
  });

  it('never puts the key in a verdict, and survives a logger that throws', async () => {
    fake.script({ reply: GROUNDED }, { reply: inventing('60元') }, { status: 500, body: `{"error":"bad key ${KEY}"}` }, { reply: GROUNDED, delayMs: 5_000 });
    for (let i = 0; i < 4; i++) await compose();
    expect(verdicts.map((v) => v.reason)).toEqual(['ok', 'ungrounded', 'error', 'timeout']);
    expect(JSON.stringify(verdicts)).not.toContain(KEY);
    fake.script({ reply: GROUNDED });
    const r = await composeAnswer(input, { client, terms, log: () => { throw new Error('log down'); } });
    expect(r.verdict.reason).toBe('ok');
  });

  it('never sends an invented fee over 50 scripted replies, a third of them inventing one', async () => {
    const invented = new Set<number>();
    for (let i = 0; i < 50; i++) {
      if (i % 3 === 0) {
        invented.add(i);
        fake.script({ reply: inventing(INVENTED_FEES[i % INVENTED_FEES.length]!) });
      } else {
        fake.script({ reply: i % 2 ? GROUNDED : '护照每本120元[1]，户籍地7个工作日内签发[3]。' });
      }
    }
    const results = [];
    for (let i = 0; i < 50; i++) results.push(await compose());
    expect(fake.requests).toHaveLength(50);
    expect(verdicts).toHaveLength(50);
    results.forEach((r, i) => {
      for (const fee of INVENTED_FEES) expect(r.text).not.toContain(fee);
      if (invented.has(i)) {
        expect(r).toMatchObject({ text: input.extractive, verdict: { used: 'extractive', reason: 'ungrounded' } });
        expect(r.verdict.unsupported).toContain(INVENTED_FEES[i % INVENTED_FEES.length]);
      } else {
        expect(r.verdict).toMatchObject({ used: 'llm', reason: 'ok' });
        expect(r.text).toMatch(/\n来源：《普通护照首次申领》/);
      }
    });
    expect(results.filter((r) => r.verdict.used === 'llm')).toHaveLength(50 - invented.size);
  });
});

describe('stripCitations', () => {
  it('drops markers and a 来源 line the model wrote anyway', () => {
    expect(stripCitations('每本120元[1]，15日内签发【2】。\n来源：[1][2]')).toBe('每本120元，15日内签发。');
    expect(stripCitations('It costs 120 yuan [1][2].')).toBe('It costs 120 yuan.');
  });
});
