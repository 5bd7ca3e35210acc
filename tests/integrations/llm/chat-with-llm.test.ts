/**
 * 小安 with a chat model configured, over real HTTP against a local fake model that
 * sometimes invents a fee: a grounded rephrasing reaches the citizen with its 来源; an
 * invented fee never does (the extractive answer goes instead); emergencies and cases never
 * reach the model; the guard's verdict is logged for every answer offered to it.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeLlm } from '../../helpers/fake-llm.ts';
import { useTestServer } from '../../helpers/server.ts';

const TOKEN = 'chat-token-0123456789';
const fake = await startFakeLlm();
const lines: string[] = [];
const logDestination = new Writable({
  write(chunk, _enc, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

describe('a chat model behind the grounding guard', () => {
  const t = useTestServer({ CHAT_API_TOKEN: TOKEN, LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'qwen-fake', LLM_API_KEY: 'sk-test-secret', LOG_LEVEL: 'info' }, undefined, { logDestination });
  afterAll(() => fake.close());
  const chat = async (userId: string, text: string) => {
    const res = await fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ userId, text }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { replies: Array<{ type: string; text?: string }> };
    return body.replies.filter((r) => r.type === 'text').map((r) => r.text!).join('\n');
  };
  const verdicts = () => lines.map((l) => JSON.parse(l) as { msg?: string; llm?: { used: string; reason: string; unsupported?: string[] } }).filter((l) => l.msg === 'llm answer').map((l) => l.llm!);

  it('sends a grounded rephrasing and never an invented fee, over many answers', async () => {
    fake.script({ reply: '办普通护照每本收费120元[1]。' });
    const grounded = await chat('p1', '办护照要多少钱');
    expect(grounded).toContain('办普通护照每本收费120元。');
    expect(grounded).toMatch(/来源：《普通护照(首次申领|换发)》办事指南·收费标准/);
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-test-secret');
    expect(fake.requests[0]!.body.messages.map((m) => m.content).join('\n')).toContain('120元');

    // A third of the replies invent a fee: those never reach the citizen.
    for (let i = 0; i < 12; i++) fake.script({ reply: i % 3 === 0 ? '办普通护照每本收费60元[1]。' : '办普通护照每本收费120元[1]。' });
    for (let i = 0; i < 12; i++) {
      const said = await chat(`p-${i}`, '办护照要多少钱');
      expect(said).not.toContain('60元');
      expect(said).toContain('120元');
    }
    const v = verdicts();
    expect(v).toHaveLength(13);
    expect(v.filter((x) => x.used === 'extractive')).toHaveLength(4);
    expect(v.filter((x) => x.reason === 'ungrounded').every((x) => x.unsupported?.some((u) => u.includes('60')))).toBe(true);
    expect(lines.join('\n')).not.toContain('sk-test-secret');
    const metrics = await (await fetch(`${t.base}/metrics`)).text();
    expect(metrics).toMatch(/xiaoan_llm_answers_total\{used="llm",reason="ok"\} 9/);
    expect(metrics).toMatch(/xiaoan_llm_answers_total\{used="extractive",reason="ungrounded"\} 4/);
  });

  it('falls back to the guide lines when the model fails, and keeps emergencies and cases from it', async () => {
    fake.reset();
    fake.script({ status: 500 });
    const failed = await chat('f1', '办护照要多少钱');
    expect(failed).toMatch(/普通护照每本120元/);
    const asked = fake.requests.length;
    expect(await chat('e1', '有人拿刀在我家门口')).toContain('110');
    expect(await chat('c1', '我要投诉')).not.toBe('');
    expect(fake.requests.length).toBe(asked);
  });
});
