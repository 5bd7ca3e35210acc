-- A similar complaint from another citizen is that citizen's own case, linked to the open
-- one it repeats: each citizen is told and surveyed about their own case only.
ALTER TABLE cases ADD COLUMN repeat_of text REFERENCES cases(id);
CREATE INDEX cases_repeat_of ON cases (repeat_of) WHERE repeat_of IS NOT NULL;
