-- The desk for a working day: who in the unit has the case, which steps are internal
-- (notes, transfers: never shown to the citizen), questions put to the citizen through the
-- chat with their answers, and notices that open a question when told.
ALTER TABLE cases ADD COLUMN assignee text;
ALTER TABLE cases ADD COLUMN assigned_at timestamptz;
CREATE INDEX cases_handling_unit ON cases (handling_unit, status, due_at);
CREATE INDEX cases_supervising_unit ON cases (supervising_unit, status, due_at);
CREATE INDEX cases_updated ON cases (updated_at DESC);

ALTER TABLE case_steps ADD COLUMN internal boolean NOT NULL DEFAULT false;
UPDATE case_steps SET internal = true WHERE action IN ('重复诉求', '并案');

CREATE TABLE case_info_requests (
  id           bigserial PRIMARY KEY,
  case_id      text NOT NULL REFERENCES cases(id),
  question     text NOT NULL,
  asked_by     text NOT NULL,
  asked_at     timestamptz NOT NULL DEFAULT now(),
  answer       text,
  answered_at  timestamptz
);
CREATE INDEX case_info_requests_case ON case_info_requests (case_id, id);

-- A notice may open a question (a request for information): set as the conversation's
-- awaiting state in the turn that tells it.
ALTER TABLE pending_notices ADD COLUMN awaiting jsonb;
