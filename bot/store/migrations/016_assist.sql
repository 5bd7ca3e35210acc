-- 热线助手 (hotline assist). ID and phone numbers are masked before any text gets here.

-- The context of one call (item, aspect, 情形), like a chat's topic: read again at the next
-- utterance of the same call, by any process, after a restart too; it counts only while
-- fresh (bot/assist/call-context.ts), and old rows are deleted by the retention job.
CREATE TABLE assist_calls (
  call_id    text PRIMARY KEY,
  state      jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assist_calls_updated_at ON assist_calls (updated_at);

-- Every utterance and what was suggested for it; `unanswered` ones (no reliable answer)
-- feed the knowledge base's unanswered loop.
CREATE TABLE assist_utterances (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  call_id     text,
  actor       text NOT NULL,
  text        text NOT NULL,
  intent      text NOT NULL,
  item_id     text,
  aspect      text,
  confidence  real,
  unanswered  boolean NOT NULL,
  emergency   text,
  suggestions jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX assist_utterances_at ON assist_utterances (at);
CREATE INDEX assist_utterances_call ON assist_utterances (call_id, id) WHERE call_id IS NOT NULL;
CREATE INDEX assist_utterances_unanswered ON assist_utterances (at) WHERE unanswered;

-- What staff made of a suggestion: 采纳 (adopted), 修改后采纳 (edited, with the text said
-- instead) or 无用 (useless). One verdict per suggestion; a later one replaces it.
CREATE TABLE assist_feedback (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL,
  utterance_id bigint NOT NULL REFERENCES assist_utterances (id) ON DELETE CASCADE,
  rank         smallint NOT NULL CHECK (rank BETWEEN 1 AND 3),
  call_id      text,
  utterance    text NOT NULL,
  item_id      text NOT NULL,
  suggestion   text NOT NULL,
  verdict      text NOT NULL CHECK (verdict IN ('adopted', 'edited', 'useless')),
  edited_text  text
);
CREATE UNIQUE INDEX assist_feedback_one_per_suggestion ON assist_feedback (utterance_id, rank);
CREATE INDEX assist_feedback_item ON assist_feedback (item_id, verdict);
