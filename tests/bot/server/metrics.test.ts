import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../helpers/server.ts';

const TOKEN = 'metrics-token-0123456789';

describe('GET /metrics', () => {
  const t = useTestServer({ METRICS_TOKEN: TOKEN });

  it('needs the token, and shows refused and held platform calls and waiting chats', async () => {
    expect((await fetch(`${t.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.base}/metrics`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status).toBe(401);
    await t.server.db.query(
      `INSERT INTO outbox (kind, idempotency_key, payload, status, last_status, blocked_reason) VALUES
         ('create_case', 'm-1', '{}', 'pending', 401, 'case platform answered 401'),
         ('create_case', 'm-2', '{}', 'invalid', 422, NULL),
         ('feedback', 'm-3', '{}', 'pending', NULL, NULL)`,
    );
    const res = await fetch(`${t.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    expect(body).toContain('xiaoan_outbox_calls{state="blocked"} 1');
    expect(body).toContain('xiaoan_outbox_calls{state="invalid"} 1');
    expect(body).toContain('xiaoan_outbox_calls{state="pending"} 1');
    expect(body).toContain('xiaoan_handoffs{state="open"} 0');
    expect(body).toContain('xiaoan_process_resident_memory_bytes');
  });
});

describe('GET /metrics without a token', () => {
  const t = useTestServer({});

  it('answers a client on this machine', async () => {
    const res = await fetch(`${t.base}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('xiaoan_outbox_oldest_pending_seconds 0');
  });
});
