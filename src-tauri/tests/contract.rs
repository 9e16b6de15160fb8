//! The UI, the command list, the registered handlers and the capability file name the same
//! commands: a command the UI calls but the capability does not grant would fail at run time,
//! and a granted command the UI never calls would widen the attack surface for nothing.

use std::collections::BTreeSet;

mod list {
    include!("../src/command_list.rs");
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

#[test]
fn ui_commands_capabilities_and_handlers_agree() {
    let listed: BTreeSet<String> = list::COMMANDS.iter().map(|c| c.to_string()).collect();

    let backend = read("../ui/src/lib/backend.ts");
    let called: BTreeSet<String> =
        backend.split("call('").skip(1).filter_map(|rest| rest.split('\'').next()).map(str::to_string).collect();
    assert_eq!(called, listed, "ui/src/lib/backend.ts calls exactly the listed commands");

    let capability: serde_json::Value = serde_json::from_str(&read("capabilities/default.json")).unwrap_or_default();
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(granted, listed, "capabilities/default.json grants exactly the listed commands");
    let others: Vec<&str> = capability["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(others, ["core:event:allow-listen", "core:event:allow-unlisten"], "no other plugin permissions");

    let lib = read("src/lib.rs");
    let handlers: BTreeSet<String> = lib
        .split("commands::")
        .skip(1)
        .filter_map(|rest| rest.split(',').next())
        .map(|s| s.trim().to_string())
        .collect();
    assert_eq!(handlers, listed, "lib.rs registers exactly the listed commands");
}

#[test]
fn the_content_security_policy_is_strict() {
    let config: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap_or_default();
    let csp = config["app"]["security"]["csp"].as_str().unwrap_or_default();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(!csp.contains("http://") || csp.contains("http://ipc.localhost"), "no remote origins: {csp}");
    assert!(!csp.contains("https:"), "no remote origins: {csp}");
}
