//! Architecture invariant: HTTP handlers hold no SQL. They parse, call a service or the store,
//! and answer; statements live in the store and in the services' report queries.

fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn handlers_hold_no_sql() {
    let mut files = Vec::new();
    sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"), &mut files);
    assert!(files.len() >= 5, "the handlers were found: {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for needle in ["SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "Statement", "Sql::new", "Dialect"] {
            assert!(!text.contains(needle), "{} holds SQL ({needle:?})", file.display());
        }
    }
}
