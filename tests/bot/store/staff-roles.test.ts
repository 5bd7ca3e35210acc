import { afterEach, describe, expect, it } from 'vitest';
import { addStaff, login, parseRoles, sessionOf } from '../../../bot/store/staff.ts';
import { testStores } from '../../helpers/databases.ts';

describe('staff roles', () => {
  it('reads a list of roles and names the unknown ones', () => {
    expect(parseRoles('agent,hotline')).toEqual(['agent', 'hotline']);
    expect(parseRoles('agent， hotline、agent')).toEqual(['agent', 'hotline']);
    expect(() => parseRoles('agent,root')).toThrow(/not root/);
    expect(() => parseRoles('')).toThrow(/one or more/);
  });
});

describe.each(testStores)('staff with several roles on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(() => cleanup());

  it('keeps every role of an account in its session; the database refuses an unknown role', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    await addStaff(s.db, 'chen', 'agent-password-1', ['agent', 'hotline']);
    const r = await login(s.db, 'chen', 'agent-password-1', 1, { address: '127.0.0.1' });
    expect(r.ok).toBe(true);
    const session = await sessionOf(s.db, (r as { token: string }).token);
    expect(session?.roles).toEqual(['agent', 'hotline']);
    await expect(s.db.query(`UPDATE staff_users SET roles = ARRAY['root'] WHERE username = 'chen'`)).rejects.toThrow();
    await expect(s.db.query(`UPDATE staff_users SET roles = '{}' WHERE username = 'chen'`)).rejects.toThrow();
  });
});
