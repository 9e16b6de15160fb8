-- Facts the server keeps about this database itself, by name: `key_fingerprint`, the public
-- fingerprint of the server key (kept outside the database) it is written with, so a server
-- started with another key refuses instead of writing what the old entries cannot be checked
-- against. Never edit: add a migration.
CREATE TABLE server_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
