//! Tauri commands: every one parses its arguments, calls `outpost-device` (or the app lock) and
//! answers `Result<T, CommandError>`; none holds a workflow. `command_list.rs` lists them and the
//! capability file grants exactly those. Commands that touch the disk or derive a key run off
//! the window's thread.
//!
//! * [`session`]: status, enrolment, PIN, lock, worker;
//! * [`records`]: lookups, reference data, contacts and corrections, referrals, tallies, stock;
//! * [`forms`]: the programme's forms: offered, checked as they are answered, survey responses;
//! * [`sync`]: sync now, refused changes;
//! * [`settings`]: language, idle lock, wrong-PIN limit.

mod args;
pub mod forms;
pub mod records;
pub mod session;
pub mod settings;
pub mod sync;

pub use forms::*;
pub use records::*;
pub use session::*;
pub use settings::*;
pub use sync::*;
