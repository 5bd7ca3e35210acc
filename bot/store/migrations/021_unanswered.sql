-- Every logged answer names the knowledge release it came from.
ALTER TABLE question_log ADD COLUMN kb_release bigint;

-- The unanswered loop (知识库): questions 小安 could not answer well, from the question log
-- (out of scope or low confidence), 转人工 hand-overs, 差评 reasons, hotline utterances with no
-- reliable suggestion or one marked 无用, clustered by similarity. Texts are masked where they come from.
CREATE TABLE unanswered_clusters (
  id            bigserial PRIMARY KEY,
  label         text NOT NULL,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'drafted', 'dismissed', 'fixed')),
  -- [{text, count, sources: [...]}], the most asked first
  questions     jsonb NOT NULL DEFAULT '[]'::jsonb,
  asked         integer NOT NULL DEFAULT 0,
  item_id       text,
  draft_id      bigint REFERENCES kb_drafts(id),
  fixed_release bigint REFERENCES kb_releases(id),
  -- The last re-ask after a release: how many of the questions reached the item.
  last_check    jsonb,
  note          text,
  handled_by    text,
  first_at      timestamptz NOT NULL DEFAULT now(),
  last_at       timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unanswered_clusters_status ON unanswered_clusters (status, asked DESC);

-- Which source rows were collected already (each counts once).
CREATE TABLE unanswered_collected (
  source  text NOT NULL,
  ref     bigint NOT NULL,
  PRIMARY KEY (source, ref)
);
