-- The built-in case desk: cases (诉求), every step with actor and time, ratings per round.
CREATE TABLE cases (
  id                text PRIMARY KEY,
  idempotency_key   text NOT NULL UNIQUE,
  citizen_id        text NOT NULL,
  citizen_mobile    text NOT NULL,
  citizen_name      text,
  consent           boolean NOT NULL,
  channel           text,
  type              text NOT NULL,
  category          text NOT NULL,
  description       text NOT NULL,
  place             text,
  handling_unit     text NOT NULL,
  supervising_unit  text NOT NULL,
  status            text NOT NULL DEFAULT 'submitted'
                    CHECK (status IN ('submitted', 'accepted', 'in_progress', 'replied', 'closed')),
  round             integer NOT NULL DEFAULT 1,
  level             integer NOT NULL DEFAULT 1 CHECK (level IN (1, 2, 3)),
  reply             text,
  due_at            timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  closed_at         timestamptz
);
CREATE INDEX cases_citizen ON cases (citizen_id, created_at);
CREATE INDEX cases_status_due ON cases (status, due_at);

CREATE TABLE case_steps (
  id       bigserial PRIMARY KEY,
  case_id  text NOT NULL REFERENCES cases(id),
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  note     text
);
CREATE INDEX case_steps_case ON case_steps (case_id, id);

CREATE TABLE case_feedback (
  case_id  text NOT NULL REFERENCES cases(id),
  round    integer NOT NULL,
  rating   text NOT NULL,
  comment  text,
  at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, round)
);
CREATE SEQUENCE case_number_seq;
