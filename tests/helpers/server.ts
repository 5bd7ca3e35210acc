/** A 小安 server on an ephemeral port for the tests of one file, on a fresh DATA_DIR. */
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../bot/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../bot/server/start.ts';
import { removeDir, testConfig } from './kb.ts';

export interface TestServer {
  config: Config;
  server: RunningServer;
  base: string;
}

/**
 * @param prepare runs against the config before the server starts (e.g. to add staff).
 * @param options e.g. a logDestination to read the log lines (LOG_LEVEL is silent unless env sets it).
 */
export function useTestServer(env: Record<string, string> = {}, prepare?: (config: Config) => Promise<void>, options: Pick<StartOptions, 'logDestination'> = {}): TestServer {
  const t = { config: testConfig(env), base: '' } as TestServer;
  beforeAll(async () => {
    await prepare?.(t.config);
    t.server = await startServer({ ...t.config, port: 0 }, { ...options, handleSignals: false, quiet: true });
    t.base = `http://127.0.0.1:${t.server.port}`;
  });
  afterAll(async () => {
    await t.server?.close();
    removeDir(t.config.dataDir);
  });
  return t;
}
