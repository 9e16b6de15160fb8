//! OpenAPI document checks (written below).
