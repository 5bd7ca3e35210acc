-- Calls to outside systems (the case platform first), persisted before they are tried:
-- at-least-once delivery, and the idempotency key makes a repeat harmless.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  payload         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  result          jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
