-- 都不是 picked on a clarification menu: the unanswered loop takes the question before it
-- from the conversation, so it finds these picks without reading every message.
CREATE INDEX messages_none_of_these ON messages (id) WHERE direction = 'in' AND kind = 'menu' AND text = 'none';
