//! Architecture invariant: the store knows nothing of HTTP. It links no web crate, read from
//! `cargo tree` of this package alone.

#[test]
fn the_store_links_no_http_crate() {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["tree", "-p", "outpost-server-store", "-e", "normal", "--prefix", "none", "-f", "{p}", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(tree.contains("rusqlite"), "the tree was read: {tree}");
    for web in ["axum", "axum-core", "hyper", "http", "tower", "tower-http", "utoipa", "reqwest"] {
        assert!(
            !tree.lines().any(|l| l.split_whitespace().next() == Some(web)),
            "outpost-server-store links {web}:\n{tree}"
        );
    }
}
