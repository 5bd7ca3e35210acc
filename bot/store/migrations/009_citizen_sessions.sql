-- Web-chat citizens are server-issued sessions: the token lives only in the browser's
-- HttpOnly cookie; the store keeps its SHA-256 and the citizen id it stands for.
CREATE TABLE citizen_sessions (
  token_hash    text PRIMARY KEY,
  user_id       text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX citizen_sessions_seen ON citizen_sessions (last_seen_at);
