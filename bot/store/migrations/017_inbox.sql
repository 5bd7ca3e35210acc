-- 人工会话: a handed-over chat is accepted by one agent (others see who has it), may be
-- transferred, and is released back to 小安; one nobody accepts in time is "missed" (the
-- citizen is offered 留言 and the bot speaks again) and can still be taken up.
ALTER TABLE handoffs DROP CONSTRAINT IF EXISTS handoffs_status_check;
ALTER TABLE handoffs ADD CONSTRAINT handoffs_status_check CHECK (status IN ('open', 'accepted', 'missed', 'released', 'closed'));
ALTER TABLE handoffs
  ADD COLUMN assigned_to  text,
  ADD COLUMN accepted_at  timestamptz,
  ADD COLUMN missed_at    timestamptz,
  ADD COLUMN released_at  timestamptz;
CREATE INDEX handoffs_live ON handoffs (created_at) WHERE status IN ('open', 'accepted', 'missed');

-- What happened in a hand-over, in order: accepted, replies, cards, private notes (never
-- shown to the citizen), transfers, a case opened, release. Texts are masked.
CREATE TABLE handoff_events (
  id          bigserial PRIMARY KEY,
  handoff_id  bigint NOT NULL REFERENCES handoffs(id),
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL CHECK (action IN ('accepted', 'reply', 'card', 'note', 'transfer', 'case', 'released', 'missed')),
  text        text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX handoff_events_handoff ON handoff_events (handoff_id, id);
