-- The changes a tablet holds that the server has not accepted yet, as it reported them with its
-- last pull (the dashboard's devices list). Never edit: add a migration.
ALTER TABLE devices ADD COLUMN unsent_ops INTEGER NOT NULL DEFAULT 0;
