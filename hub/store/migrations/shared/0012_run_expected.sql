-- Live progress (web/src/ui/progress.rs): how many records a running run expects to read, when
-- the source could tell at the first page (ReadPage.total); NULL when unknown (the bar is then
-- indeterminate and no time estimate is shown).
ALTER TABLE runs ADD COLUMN expected_read BIGINT;
