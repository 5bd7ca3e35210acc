-- Channel messages already answered, recorded in the same statement that saves their turn:
-- a message redelivered after a crash is answered once, and one lost mid-turn is answered again.
CREATE TABLE handled_messages (
  channel     text NOT NULL,
  message_id  text NOT NULL,
  -- The replies of that turn, so a channel can send them again (idempotently) if it crashed before it did.
  replies     jsonb NOT NULL DEFAULT '[]'::jsonb,
  delivered   boolean NOT NULL DEFAULT false,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, message_id)
);
CREATE INDEX handled_messages_at ON handled_messages (at);
