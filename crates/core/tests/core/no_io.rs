//! Architecture invariant: `outpost-core` depends on no IO crate. Time and randomness are passed
//! in, so merge and validation stay pure and testable without a network or a disk.

#[test]
fn core_has_no_io_dependencies() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap_or_default();
    assert!(manifest.contains("[dependencies]"), "manifest not read");
    let forbidden = [
        "tokio",
        "async-std",
        "rusqlite",
        "sqlx",
        "postgres",
        "reqwest",
        "hyper",
        "axum",
        "tauri",
        "rand",
        "getrandom",
        "std-fs",
        "mio",
        "libsqlite3",
    ];
    let deps: Vec<&str> = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or("")
        .split("\n[")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for dep in &deps {
        assert!(!forbidden.contains(dep), "outpost-core must not depend on {dep}");
    }
    assert!(!manifest.contains("features = [\"v7\""), "uuid's v7 feature reads the clock; pass time in instead");
}

#[test]
fn core_source_does_no_io() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for needle in ["std::fs", "std::net", "SystemTime::now", "Instant::now", "std::process", "std::env"] {
            assert!(!text.contains(needle), "{} uses {needle}", entry.path().display());
        }
    }
}
