-- Several 小安 processes on one PostgreSQL (replicas).
-- Work that must happen once per event whichever replica sees it first (the unanswered
-- questions asked again after a release switch): the first to insert its key does it.
CREATE TABLE replica_once (
  key text PRIMARY KEY,
  done_at timestamptz NOT NULL DEFAULT now()
);
-- A message between replicas too large for a NOTIFY payload (8000 bytes) travels by reference.
CREATE TABLE bus_messages (
  id bigserial PRIMARY KEY,
  payload jsonb NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now()
);
