//! Integration tests of outpost-core (one binary).

mod no_io;
mod wire_fixtures;
