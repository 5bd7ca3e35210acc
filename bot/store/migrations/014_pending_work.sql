-- What a citizen is owed lives in tables, not in the conversation state: 重新开始 and an
-- expired context forget the topic, never a notice that found no open chat (a late case
-- number) nor a survey (already rows of surveys, asked while status = 'pending').
CREATE TABLE pending_notices (
  id          bigserial PRIMARY KEY,
  channel     text NOT NULL,
  user_id     text NOT NULL,
  replies     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Set in the statement that saves the turn which told it: told once, never lost.
  told_at     timestamptz
);
CREATE INDEX pending_notices_owed ON pending_notices (channel, user_id, id) WHERE told_at IS NULL;

-- Notices kept in conversation states before this migration move to the table; the flags
-- and counters that lived there go (a pending survey is its row; a case is identified by
-- its draft's own id now, not by a per-conversation counter).
INSERT INTO pending_notices (channel, user_id, replies)
SELECT channel, user_id, state -> 'notices' FROM conversations
WHERE jsonb_typeof(state -> 'notices') = 'array' AND jsonb_array_length(state -> 'notices') > 0
ORDER BY id;
UPDATE conversations SET state = state - 'notices' - 'surveyPending' - 'casesSubmitted'
WHERE state ?| ARRAY['notices', 'surveyPending', 'casesSubmitted'];

-- A confirmed draft is compared with the citizen's submissions of the last minutes.
CREATE INDEX outbox_create_case_recent ON outbox (created_at) WHERE kind = 'create_case';

-- Expired case drafts (mobile, name) are purged by the last activity of their conversation.
CREATE INDEX conversations_case_drafts ON conversations (updated_at) WHERE state -> 'awaiting' ->> 'kind' = 'case';
