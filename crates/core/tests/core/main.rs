//! Integration tests of outpost-core (one binary).

mod no_io;
mod records_schema;
mod wire_fixtures;
