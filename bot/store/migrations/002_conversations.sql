-- One row per citizen and channel: the dialog state, so a conversation survives a restart.
CREATE TABLE conversations (
  id          bigserial PRIMARY KEY,
  channel     text NOT NULL,
  user_id     text NOT NULL,
  state       jsonb NOT NULL DEFAULT '{}'::jsonb,
  handed_over boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel, user_id)
);

-- Every message in and out (ID and phone numbers masked before they get here).
CREATE TABLE messages (
  id              bigserial PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations(id),
  direction       text NOT NULL CHECK (direction IN ('in', 'out')),
  kind            text NOT NULL,
  text            text,
  payload         jsonb,
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- Hand-over requests and messages left for staff, with a summary of what the bot did.
CREATE TABLE handoffs (
  id              bigserial PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations(id),
  kind            text NOT NULL CHECK (kind IN ('handoff', 'message')),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'released', 'closed')),
  summary         jsonb NOT NULL,
  text            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoffs_open ON handoffs (status, created_at);
