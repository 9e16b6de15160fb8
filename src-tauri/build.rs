//! Declares the app's commands so the capability file can allow exactly the ones the UI uses.

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(outpost_commands::COMMANDS)),
    )
    .expect("failed to run the Tauri build script");
}

mod outpost_commands {
    include!("src/command_list.rs");
}
