/**
 * The console's one way to the staff API: the session cookie goes along by itself; every
 * change carries the session's CSRF token (from /api/staff/me); a lost session goes back to
 * the login page.
 */
let csrfToken = '';

export function useCsrf(token: string): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export async function api<T = unknown>(path: string, body?: unknown, method?: string): Promise<T> {
  const init: RequestInit =
    body === undefined && !method
      ? { headers: { accept: 'application/json' } }
      : {
          method: method ?? 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrfToken },
          body: JSON.stringify(body ?? {}),
        };
  const res = await fetch(path.startsWith('/') ? path : `/api/staff/${path}`, init);
  if (res.status === 401) {
    location.href = '/staff/login';
    throw new ApiError('登录已过期，请重新登录', 401, null);
  }
  const data = (await res.json().catch(() => null)) as (T & { error?: string }) | null;
  if (!res.ok) throw new ApiError(data?.error ?? `请求失败（${res.status}）`, res.status, data);
  return data as T;
}

/** Ends the session with the same form POST the login page expects (CSRF field included). */
export function logout(): void {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = '/staff/logout';
  const field = document.createElement('input');
  field.type = 'hidden';
  field.name = '_csrf';
  field.value = csrfToken;
  form.appendChild(field);
  document.body.appendChild(form);
  form.submit();
}
