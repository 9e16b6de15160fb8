-- Running a programme from the dashboard: the organisation's default language (tablets and
-- reports name things in it when a text has no translation), each user's last login, and
-- whether their password is a temporary one an administrator gave out (to be changed at the
-- next login). Never edit: add a migration.
ALTER TABLE orgs ADD COLUMN default_language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE users ADD COLUMN last_login_ms INTEGER;
ALTER TABLE users ADD COLUMN password_temporary INTEGER NOT NULL DEFAULT 0;
