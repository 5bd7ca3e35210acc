/** The console's OpenAPI contract names exactly the staff, assist and stats routes the server has. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../bot/config.ts';
import { useTestServer } from '../helpers/server.ts';
import { openapiPath, routesOf } from './routes.ts';

const CONTRACT = path.join(PROJECT_ROOT, 'bot', 'server', 'openapi.yaml');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('the console API contract', () => {
  const t = useTestServer({ STAFF_API_TOKEN: 'staff-token-0123456789', ASSIST_API_TOKEN: 'assist-token-0123456789' });

  it('documents every /api/staff, /api/assist and /api/stats route, and no route that does not exist', () => {
    const doc = parse(readFileSync(CONTRACT, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const served = routesOf(t.server.app)
      .filter((r) => /^\/api\/(staff|assist|stats)(\/|$)/.test(r.path))
      .map((r) => `${r.method} ${openapiPath(r.path)}`)
      .sort();
    expect(served.length).toBeGreaterThan(20);
    expect(documented).toEqual(served);
  });
});
