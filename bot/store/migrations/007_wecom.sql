-- The WeCom access token, shared by every 小安 process (gettoken is rate-limited).
CREATE TABLE wecom_tokens (
  corp_id     text PRIMARY KEY,
  token       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
