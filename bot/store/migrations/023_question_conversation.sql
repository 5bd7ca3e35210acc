-- The statistics (统计) count self-service resolution per conversation: each logged question
-- names the conversation it was asked in (null for the CLI, the hotline and older rows).
ALTER TABLE question_log ADD COLUMN conversation_id bigint;
CREATE INDEX question_log_conversation ON question_log (conversation_id, asked_at) WHERE conversation_id IS NOT NULL;
