-- Refusals of outside calls are no longer dropped: a refusal that looks like our configuration
-- (401/403/404/429) stays pending, retried, with its reason; one of the call itself (400/422)
-- is held as 'invalid' for staff to correct and resend. Delivered entries are redacted.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
ALTER TABLE outbox
  ADD COLUMN last_status    integer,
  ADD COLUMN blocked_reason text,
  ADD COLUMN resent_by      text,
  ADD COLUMN resent_at      timestamptz,
  ADD COLUMN redacted_at    timestamptz;

-- Entries given up before this migration are taken back: none is lost. The old error text
-- says why each one failed ("case platform answered 401: …", "callback answered 403").
UPDATE outbox SET status = 'pending', blocked_reason = last_error, next_attempt_at = now(),
       last_status = substring(last_error from 'answered (\d{3})')::integer
  WHERE status = 'failed' AND last_error ~ 'answered (401|403|404|429)\M';
UPDATE outbox SET status = 'invalid', last_status = substring(last_error from 'answered (\d{3})')::integer
  WHERE status = 'failed' AND last_error ~ 'answered 4\d\d\M';
-- The rest failed for a reason that may pass (5xx, no answer, attempts used up).
UPDATE outbox SET status = 'pending', next_attempt_at = now() WHERE status = 'failed';

ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'done', 'invalid'));
-- Staff lists and the health summary read what is not done; redaction finds old done entries.
CREATE INDEX outbox_stuck ON outbox (status, id) WHERE status <> 'done';
CREATE INDEX outbox_unredacted ON outbox (id) WHERE status = 'done' AND redacted_at IS NULL;
