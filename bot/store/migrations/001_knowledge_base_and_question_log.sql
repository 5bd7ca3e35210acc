-- Published knowledge-base versions: which guide set is live, its checksum, who and when.
CREATE TABLE kb_versions (
  id            bigserial PRIMARY KEY,
  checksum      text NOT NULL,
  guides_checksum text NOT NULL,
  embeddings    text NOT NULL,
  item_count    integer NOT NULL,
  chunk_count   integer NOT NULL,
  build_ms      integer NOT NULL,
  published_by  text NOT NULL,
  published_at  timestamptz NOT NULL DEFAULT now(),
  is_current    boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX kb_versions_one_current ON kb_versions (is_current) WHERE is_current;

-- Every question 小安 was asked (ID and phone numbers masked before they get here).
CREATE TABLE question_log (
  id          bigserial PRIMARY KEY,
  asked_at    timestamptz NOT NULL DEFAULT now(),
  channel     text NOT NULL,
  text        text NOT NULL,
  normalized  text NOT NULL,
  intent      text NOT NULL,
  item_id     text,
  candidates  jsonb NOT NULL DEFAULT '[]'::jsonb,
  aspect      text,
  confidence  real,
  latency_ms  real NOT NULL,
  kb_checksum text
);
CREATE INDEX question_log_asked_at ON question_log (asked_at);
CREATE INDEX question_log_intent ON question_log (intent, asked_at);
