-- The programme's own service packages (what "reached with the package" requires per key
-- population and setting), as JSON; NULL: the shipped defaults. Never edit: add a migration.
ALTER TABLE orgs ADD COLUMN service_packages TEXT;
