-- Staff of the case desk: hashed passwords, roles, and sessions that expire.
CREATE TABLE staff_users (
  username      text PRIMARY KEY,
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('handler', 'supervisor')),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff_sessions (
  token_hash  text PRIMARY KEY,
  username    text NOT NULL REFERENCES staff_users(username) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);
