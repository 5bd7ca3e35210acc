-- The WeCom access token, shared by every 小安 process (gettoken is rate-limited).
CREATE TABLE wecom_tokens (
  corp_id     text PRIMARY KEY,
  token       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One pull loop per 微信客服 account: the cursor, and a lease so only one process pulls.
CREATE TABLE wecom_cursors (
  open_kfid   text PRIMARY KEY,
  cursor      text,
  lease_until timestamptz NOT NULL DEFAULT 'epoch',
  holder      text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Messages already handled (WeCom may deliver one twice).
CREATE TABLE wecom_seen (
  msgid  text PRIMARY KEY,
  at     timestamptz NOT NULL DEFAULT now()
);

-- Per citizen: what is left of the 5-message budget, and replies waiting for "继续".
CREATE TABLE wecom_budget (
  open_kfid        text NOT NULL,
  external_userid  text NOT NULL,
  last_citizen_at  timestamptz NOT NULL,
  sent             integer NOT NULL DEFAULT 0,
  pending          jsonb NOT NULL DEFAULT '[]'::jsonb,
  PRIMARY KEY (open_kfid, external_userid)
);

-- Sends WeCom refused or reported failed (msg_send_fail, 95001, 95002, 95018 …).
CREATE TABLE wecom_send_failures (
  id               bigserial PRIMARY KEY,
  external_userid  text,
  msgid            text,
  reason           text NOT NULL,
  at               timestamptz NOT NULL DEFAULT now()
);
