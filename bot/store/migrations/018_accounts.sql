-- 账号管理: when each account last logged in, shown to admins (filled from the audit log once).
ALTER TABLE staff_users ADD COLUMN last_login_at timestamptz;
UPDATE staff_users u SET last_login_at = (
  SELECT max(a.at) FROM audit_log a WHERE a.actor = u.username AND a.action = 'login' AND a.outcome = 'ok'
);
