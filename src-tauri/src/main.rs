//! Outpost tablet app entry point: everything lives in the library (`outpost_app::run`).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    outpost_app::run();
}
