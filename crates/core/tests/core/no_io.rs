//! Architecture invariant: `outpost-core` links no IO crate. Time and randomness are passed in,
//! so merge and validation stay pure and testable without a network, a disk or a clock.
//!
//! The check reads what core actually links, from `cargo tree` of the core package alone (the
//! features it resolves on its own: a workspace-wide feature switched on for another crate does
//! not hide here), and a second test proves it fails for a manifest that links IO.

use std::path::Path;
use std::process::Command;

/// Crates that do IO (or read the clock or the OS's randomness), by name.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "async-std",
    "mio",
    "rusqlite",
    "libsqlite3-sys",
    "sqlx",
    "postgres",
    "tokio-postgres",
    "reqwest",
    "hyper",
    "axum",
    "tauri",
    "rand",
    "getrandom",
];

/// uuid features that read the clock or the OS's randomness.
const FORBIDDEN_UUID_FEATURES: &[&str] = &["v1", "v4", "v6", "v7", "rng", "fast-rng"];

/// The forbidden crates and features in `cargo tree -f '{p} [{f}]'` output.
fn forbidden_links(tree: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let Some(name) = words.next() else { continue };
        if FORBIDDEN.contains(&name) {
            found.push(name.to_string());
        }
        if name == "uuid" {
            let features = line.split_once('[').map_or("", |(_, f)| f.trim_end_matches(']'));
            for feature in features.split(',').map(str::trim) {
                if FORBIDDEN_UUID_FEATURES.contains(&feature) {
                    found.push(format!("uuid/{feature}"));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn tree(args: &[&str], dir: &Path) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-e", "normal", "--prefix", "none", "-f", "{p} [{f}]"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn core_links_no_io_crate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let linked = tree(&["-p", "outpost-core", "--offline"], dir);
    assert!(linked.contains("serde_json"), "the tree was read: {linked}");
    assert_eq!(forbidden_links(&linked), Vec::<String>::new(), "outpost-core links IO:\n{linked}");
}

#[test]
fn the_check_fails_for_a_manifest_that_links_io() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("src")).expect("src");
    std::fs::write(dir.path().join("src/lib.rs"), "").expect("lib");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"io-core\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\ntokio = { version = \"1\", features = [\"rt\"] }\nuuid = { version = \"1\", features = [\"v7\"] }\n\n\
         [workspace]\n",
    )
    .expect("manifest");
    let linked = tree(&["--offline"], dir.path());
    let found = forbidden_links(&linked);
    assert!(found.contains(&"tokio".to_string()) && found.contains(&"uuid/v7".to_string()), "{found:?}\n{linked}");
}

#[test]
fn core_source_does_no_io() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for needle in ["std::fs", "std::net", "SystemTime::now", "Instant::now", "std::process", "std::env", "now_v7"] {
            assert!(!text.contains(needle), "{} uses {needle}", entry.path().display());
        }
    }
}
