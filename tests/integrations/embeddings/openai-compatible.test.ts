import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config.ts';
import { HashedNgramEmbeddings } from '../../../knowledge-base/embeddings/hashed-embeddings.ts';
import { openKnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { copyGuides, removeDir, tempDir } from '../../helpers/kb.ts';

// A stand-in model behind the fake endpoint: deterministic vectors from the text itself.
const model = new HashedNgramEmbeddings({ dimensions: 64 });
const BASE = 'http://embeddings.test:8000';

describe('OpenAI-compatible embeddings endpoint', () => {
  let guidesDir = '';
  const dataDirs: string[] = [];
  beforeAll(() => {
    guidesDir = copyGuides(['sfz-04', 'crj-01', 'jsz-02']);
    nock.disableNetConnect();
  });
  afterEach(() => nock.cleanAll());
  afterAll(() => {
    nock.enableNetConnect();
    removeDir(guidesDir);
    dataDirs.forEach(removeDir);
  });

  const config = () => {
    const dataDir = tempDir();
    dataDirs.push(dataDir);
    return loadConfig({
      DATA_DIR: dataDir,
      GUIDES_DIR: guidesDir,
      EMBEDDINGS_BASE_URL: `${BASE}/v1`,
      EMBEDDINGS_MODEL: 'bge-m3',
      EMBEDDINGS_API_KEY: 'secret-key',
    });
  };

  it('builds and queries the index through the endpoint, configured by environment alone', async () => {
    const bodies: Array<{ model: string; input: string[]; encoding_format?: string }> = [];
    let auth = '';
    nock(BASE)
      .post('/v1/embeddings')
      .times(20)
      .reply(function (_uri, body) {
        auth = String(this.req.headers.authorization);
        const b = body as { model: string; input: string[] | string; encoding_format?: string };
        const input = Array.isArray(b.input) ? b.input : [b.input];
        bodies.push({ ...b, input });
        return [200, { object: 'list', model: b.model, data: input.map((t, i) => ({ object: 'embedding', index: i, embedding: model.vector(t) })), usage: { prompt_tokens: 1, total_tokens: 1 } }];
      });

    const kb = await openKnowledgeBase(config());
    expect(kb.index.meta.embeddings).toBe(`openai:bge-m3@${BASE}/v1`);
    expect(bodies[0]).toMatchObject({ model: 'bge-m3', encoding_format: 'float' });
    expect(auth).toBe('Bearer secret-key');
    const embedded = bodies.reduce((n, b) => n + b.input.length, 0);
    expect(embedded).toBe(kb.index.chunks.length);

    const r = await kb.retriever.retrieve('驾照到期了去哪换');
    expect(r.candidates[0]?.id).toBe('jsz-02');
    expect(r.candidates[0]!.evidence.some((e) => e.dense)).toBe(true);
  });

  it('fails the build with a clear error when the endpoint is down, leaving no half index', async () => {
    nock(BASE).post('/v1/embeddings').times(10).reply(503, { error: { message: 'model loading' } });
    const c = config();
    await expect(openKnowledgeBase(c)).rejects.toThrow(/503|model loading/);
    // Next time it works, and it builds from scratch.
    nock(BASE)
      .post('/v1/embeddings')
      .times(20)
      .reply((_uri, body) => {
        const input = (body as { input: string[] }).input;
        return [200, { object: 'list', data: input.map((t, i) => ({ object: 'embedding', index: i, embedding: model.vector(t) })) }];
      });
    const kb = await openKnowledgeBase(c);
    expect(kb.built).toBe(true);
  });
});
