-- Which citizen (channel and user) each case came from, to tell them its result.
CREATE TABLE case_links (
  case_id  text PRIMARY KEY,
  channel  text NOT NULL,
  user_id  text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);

-- Callback events already handled (platforms retry; each event counts once).
CREATE TABLE callback_events (
  event_id    text PRIMARY KEY,
  type        text NOT NULL,
  case_id     text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

-- 好差评: one survey per case and handling round.
CREATE TABLE surveys (
  id           bigserial PRIMARY KEY,
  case_id      text NOT NULL,
  round        integer NOT NULL,
  level        integer NOT NULL,
  channel      text NOT NULL,
  user_id      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'asked', 'reminded', 'answered', 'unrated')),
  rating       text,
  comment      text,
  asked_at     timestamptz,
  reminded_at  timestamptz,
  answered_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (case_id, round)
);
CREATE INDEX surveys_user ON surveys (channel, user_id, status);
