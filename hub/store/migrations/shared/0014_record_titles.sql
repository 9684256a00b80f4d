-- Records named as a person knows them (issue 20 point 3): a run error's and warning's record
-- title (its title field's value as read), a failed record's page in its own system, and the
-- field and value a refusal names. NULL where unknown (rows from before this migration).
ALTER TABLE run_errors ADD COLUMN title TEXT;
ALTER TABLE run_errors ADD COLUMN url TEXT;
ALTER TABLE run_errors ADD COLUMN field TEXT;
ALTER TABLE run_errors ADD COLUMN value TEXT;
ALTER TABLE run_warnings ADD COLUMN title TEXT;
