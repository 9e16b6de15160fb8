-- The programme's own target of needle-syringes per person who injects drugs per year, shown
-- beside the coverage bands; NULL means the default (300, WHO's 2030 target). Never edit: add a
-- migration.
ALTER TABLE orgs ADD COLUMN nsp_target INTEGER;
