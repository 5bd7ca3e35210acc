-- Knowledge as data in the store (issue 12): a release is an immutable snapshot of every
-- guide and lexicon file (path → text) with who wrote and who approved it; a draft is an
-- editor's working copy made from a release or from files (xiaoan kb import). The guides in
-- knowledge-base/guides seed the first release.
CREATE TABLE kb_releases (
  id            bigserial PRIMARY KEY,
  checksum      text NOT NULL,
  files         jsonb NOT NULL,
  -- Kept beside the files so that listing releases, and the poll of every process, never
  -- reads the files themselves.
  file_count    integer NOT NULL DEFAULT 0,
  kind          text NOT NULL CHECK (kind IN ('seed', 'release', 'rollback')),
  author        text NOT NULL,
  approver      text,
  note          text,
  -- A rollback names the release whose content it restores.
  restores      bigint REFERENCES kb_releases(id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  effective_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kb_releases_effective ON kb_releases (effective_at DESC, id DESC);

-- What a release holds never changes, and no release is deleted.
CREATE FUNCTION kb_releases_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kb_releases are immutable: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER kb_releases_no_change BEFORE UPDATE OR DELETE ON kb_releases
  FOR EACH ROW EXECUTE FUNCTION kb_releases_immutable();
CREATE TRIGGER kb_releases_no_truncate BEFORE TRUNCATE ON kb_releases
  FOR EACH STATEMENT EXECUTE FUNCTION kb_releases_immutable();

CREATE TABLE kb_drafts (
  id            bigserial PRIMARY KEY,
  base_release  bigint REFERENCES kb_releases(id),
  files         jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'approved', 'published')),
  author        text NOT NULL,
  note          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  submitted_at  timestamptz,
  -- The regression gate's last run: its result for the files of that checksum.
  gate          jsonb,
  approver      text,
  approved_at   timestamptz,
  -- A reviewer who approves a draft the gate blocked must say why.
  override_reason text,
  release_id    bigint REFERENCES kb_releases(id),
  CHECK (approver IS NULL OR approver <> author)
);
CREATE INDEX kb_drafts_status ON kb_drafts (status, updated_at DESC);
