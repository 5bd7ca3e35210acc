import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config.ts';
import { ChatClientError, OpenAiChatClient } from '../../../integrations/llm/chat-client.ts';
import { createChatClient } from '../../../integrations/llm/index.ts';
import { startFakeLlm, type FakeLlm } from '../../helpers/fake-llm.ts';

const KEY = 'sk-test-0123456789abcdef';
const messages = [{ role: 'user' as const, content: '护照多少钱？' }];

describe('OpenAiChatClient against a local OpenAI-compatible server', () => {
  let fake: FakeLlm;
  let client: OpenAiChatClient;
  beforeAll(async () => {
    fake = await startFakeLlm();
    client = new OpenAiChatClient({ baseUrl: `${fake.baseUrl}/`, model: 'qwen-test', apiKey: KEY, timeoutMs: 1_000 });
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  it('posts model, messages, temperature 0 and max_tokens with the bearer key, and returns the text', async () => {
    fake.script({ reply: '  每本120元[1]。 ' });
    await expect(client.complete(messages)).resolves.toBe('每本120元[1]。');
    const [req] = fake.requests;
    expect(req!.path).toBe('/v1/chat/completions');
    expect(req!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req!.headers['content-type']).toMatch(/application\/json/);
    expect(req!.body).toMatchObject({ model: 'qwen-test', messages, temperature: 0, max_tokens: 300 });
  });

  it('sends no Authorization header without a key', async () => {
    fake.script({ reply: 'ok' });
    await new OpenAiChatClient({ baseUrl: fake.baseUrl, model: 'm' }).complete(messages, { maxTokens: 50 });
    expect(fake.requests[0]!.headers.authorization).toBeUndefined();
    expect(fake.requests[0]!.body.max_tokens).toBe(50);
  });

  it('throws typed errors: HTTP status, malformed JSON, no choices, timeout, unreachable', async () => {
    const kindOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);
    fake.script({ status: 500 }, { malformed: true }, { noChoices: true }, { reply: '   ' }, { reply: 'late', delayMs: 5_000 });
    const errors = [await kindOf(client.complete(messages)), await kindOf(client.complete(messages)), await kindOf(client.complete(messages)), await kindOf(client.complete(messages)), await kindOf(client.complete(messages))];
    for (const e of errors) expect(e).toBeInstanceOf(ChatClientError);
    expect(errors.map((e) => (e as ChatClientError).kind)).toEqual(['http', 'malformed', 'empty', 'empty', 'timeout']);
    expect((errors[0] as ChatClientError).status).toBe(500);
    const closed = new OpenAiChatClient({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKey: KEY, timeoutMs: 1_000 });
    const unreachable = await kindOf(closed.complete(messages));
    expect(unreachable).toMatchObject({ kind: 'network' });
    for (const e of [...errors, unreachable]) expect(String((e as Error).message)).not.toContain(KEY);
  });
});

describe('createChatClient', () => {
  it('is null when LLM composition is off, and a client from config otherwise', () => {
    expect(createChatClient(loadConfig({}).llm)).toBeNull();
    const c = createChatClient(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:9/v1', LLM_MODEL: 'qwen', LLM_API_KEY: KEY }).llm);
    expect(c).toBeInstanceOf(OpenAiChatClient);
  });
});
