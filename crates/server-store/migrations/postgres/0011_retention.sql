-- The organisation's retention period in days: the server's periodic job erases people not
-- seen since, and contacts and survey responses older than it. NULL keeps everything.
-- Never edit: add a migration.
ALTER TABLE orgs ADD COLUMN retention_days INTEGER;
