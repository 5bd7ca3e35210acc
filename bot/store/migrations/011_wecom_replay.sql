-- WeCom callbacks already accepted, by (nonce, msg_signature): a second use is a replay.
-- A row is kept while its timestamp could still pass the freshness check (purged as we go).
CREATE TABLE wecom_callback_nonces (
  nonce       text NOT NULL,
  signature   text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (nonce, signature)
);
CREATE INDEX wecom_callback_nonces_expires ON wecom_callback_nonces (expires_at);

-- Pulled messages whose handling threw: tried again at later pulls, then answered with an
-- apology and given up (gave_up_at) so the cursor can move on.
CREATE TABLE wecom_attempts (
  msgid       text PRIMARY KEY,
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  last_at     timestamptz NOT NULL DEFAULT now(),
  gave_up_at  timestamptz
);

-- The pull lease names its holder's host (with its pid namespace) and pid, so a lease left by
-- a dead process on this host is taken over at once instead of waiting for it to expire.
ALTER TABLE wecom_cursors ADD COLUMN holder_host text, ADD COLUMN holder_pid integer;
