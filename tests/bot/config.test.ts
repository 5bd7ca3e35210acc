import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../bot/config.ts';

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.embeddings).toEqual({ kind: 'hashed' });
    expect(c.dataDir).toMatch(/data$/);
  });

  it('names every bad value with its fix', () => {
    try {
      loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', EMBEDDINGS_BASE_URL: 'http://127.0.0.1:8000/v1' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toContain('PORT must be a number');
      expect(msg).toContain('DATABASE_URL must start with postgres://');
      expect(msg).toContain('EMBEDDINGS_MODEL is required');
    }
  });

  it('configures an OpenAI-compatible embeddings endpoint by environment alone', () => {
    const c = loadConfig({ EMBEDDINGS_BASE_URL: 'http://127.0.0.1:8000/v1', EMBEDDINGS_MODEL: 'bge-m3', EMBEDDINGS_API_KEY: 'k' });
    expect(c.embeddings).toEqual({ kind: 'openai', baseURL: 'http://127.0.0.1:8000/v1', model: 'bge-m3', apiKey: 'k', dimensions: undefined });
  });

  it('stops on a partial WeChat configuration, naming what is missing', () => {
    expect(() => loadConfig({ WECOM_CORP_ID: 'ww1', WECOM_TOKEN: 't' })).toThrow(/WECOM_AES_KEY, WECOM_SECRET, WECOM_OPEN_KFID missing/);
    expect(() =>
      loadConfig({ WECOM_CORP_ID: 'ww1', WECOM_TOKEN: 't', WECOM_AES_KEY: 'short', WECOM_SECRET: 's', WECOM_OPEN_KFID: 'wk' }),
    ).toThrow(/43 base64 characters/);
    const c = loadConfig({ WECOM_CORP_ID: 'ww1', WECOM_TOKEN: 't', WECOM_AES_KEY: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', WECOM_SECRET: 's', WECOM_OPEN_KFID: 'wk' });
    expect(c.wecom).toMatchObject({ corpId: 'ww1', apiBase: 'https://qyapi.weixin.qq.com' });
    expect(() => loadConfig({ CASE_PLATFORM_URL: 'http://cases.test' })).toThrow(/CASE_PLATFORM_KEY: set both/);
  });

  it('configures optional LLM composition: off by default, model required with the URL, bounded timeout', () => {
    expect(loadConfig({}).llm).toBeNull();
    expect(loadConfig({ LLM_MODEL: 'qwen' }).llm).toBeNull();
    expect(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:8001/v1', LLM_MODEL: 'qwen2.5-7b-instruct' }).llm).toEqual({
      baseUrl: 'http://127.0.0.1:8001/v1',
      model: 'qwen2.5-7b-instruct',
      apiKey: undefined,
      timeoutMs: 2000,
    });
    expect(loadConfig({ LLM_BASE_URL: 'https://llm.test/v1', LLM_MODEL: 'm', LLM_API_KEY: 'sk-1', LLM_TIMEOUT_MS: '1500' }).llm).toEqual({
      baseUrl: 'https://llm.test/v1',
      model: 'm',
      apiKey: 'sk-1',
      timeoutMs: 1500,
    });
    expect(() => loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:8001/v1' })).toThrow(/LLM_MODEL is required when LLM_BASE_URL is set/);
    expect(() => loadConfig({ LLM_BASE_URL: 'llm.test', LLM_MODEL: 'm' })).toThrow(/LLM_BASE_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ LLM_BASE_URL: 'http://llm.test', LLM_MODEL: 'm', LLM_TIMEOUT_MS: '50' })).toThrow(/LLM_TIMEOUT_MS must be at least 100/);
    expect(() => loadConfig({ LLM_BASE_URL: 'http://llm.test', LLM_MODEL: 'm', LLM_TIMEOUT_MS: '20000' })).toThrow(/LLM_TIMEOUT_MS must be at most 10000/);
    expect(() => loadConfig({ LLM_TIMEOUT_MS: 'soon' })).toThrow(/LLM_TIMEOUT_MS must be a number/);
    // The key is a secret: a config error never repeats it.
    try {
      loadConfig({ LLM_BASE_URL: 'http://llm.test', LLM_API_KEY: 'sk-very-secret', LLM_TIMEOUT_MS: '5' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('sk-very-secret');
    }
  });

  it('rejects a port out of range and a non-URL endpoint', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be between 0 and 65535/);
    expect(() => loadConfig({ EMBEDDINGS_BASE_URL: 'localhost:8000', EMBEDDINGS_MODEL: 'm' })).toThrow(/must be an http\(s\) URL/);
  });
});
