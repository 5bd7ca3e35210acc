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

  it('rejects a port out of range and a non-URL endpoint', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be between 0 and 65535/);
    expect(() => loadConfig({ EMBEDDINGS_BASE_URL: 'localhost:8000', EMBEDDINGS_MODEL: 'm' })).toThrow(/must be an http\(s\) URL/);
  });
});
