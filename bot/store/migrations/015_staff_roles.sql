-- A staff member may hold several roles (a 网办中心 agent who also takes hotline calls), and
-- belongs to one unit of the organisation (used by the case desk's scoping).
ALTER TABLE staff_users ADD COLUMN roles text[] NOT NULL DEFAULT '{}';
UPDATE staff_users SET roles = ARRAY[role];
ALTER TABLE staff_users DROP COLUMN role;
ALTER TABLE staff_users ADD CONSTRAINT staff_users_roles_check
  CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['agent', 'hotline', 'handler', 'editor', 'supervisor', 'admin']::text[]);
ALTER TABLE staff_users ADD COLUMN unit text;
ALTER TABLE staff_users ADD COLUMN display_name text;
