-- Staff security (等保三级): disabled accounts, per-session CSRF tokens, login throttling
-- shared by every process on the database, and an append-only audit log.

ALTER TABLE staff_users ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- Sessions from before this migration have no CSRF token: they end, staff log in again.
DELETE FROM staff_sessions;
ALTER TABLE staff_sessions ADD COLUMN csrf_token text NOT NULL;
CREATE INDEX staff_sessions_user ON staff_sessions (username);

-- One row per throttled key ('user:NAME' or 'ip:ADDRESS'). An attempt is counted before its
-- password is checked, so parallel guesses cannot slip past the limit.
CREATE TABLE login_throttle (
  key              text PRIMARY KEY,
  failures         integer NOT NULL DEFAULT 0,
  last_failure_at  timestamptz NOT NULL,
  blocked_until    timestamptz
);
CREATE INDEX login_throttle_seen ON login_throttle (last_failure_at);

-- Who did what to what, when, from where. Rows are only ever inserted.
CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  target   text,
  address  text,
  outcome  text NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'failed', 'denied')),
  details  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor_at ON audit_log (actor, at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);

-- Append-only in the database itself: UPDATE, DELETE and TRUNCATE fail whoever sends them.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
