//! The app lock: the local database key is derived from the PIN with Argon2id and lives only in
//! memory while unlocked. Wrong PINs wait longer and longer; after too many the local data is
//! wiped, because a tablet that is lost or seized must not give up clients' data to guessing.
//!
//! `lock.json` beside the database holds only what is needed before unlocking: the salt, the
//! failure counter, the language and the idle-lock time. No client data is ever in it.

use outpost_device::StoreKey;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The Argon2id cost of a PIN's key derivation. Kept in the lock file, so a tablet whose PIN
/// was set under an older, cheaper default still unlocks after an update.
///
/// A PIN is a small secret: whoever copies the disk of a lost tablet can try every PIN offline,
/// where no wrong-PIN counter applies. What protects clients then is the cost of each guess:
/// 64 MiB and 3 passes make one guess take about a third of a second on a tablet core and
/// defeat GPU farms (each guess needs its own 64 MiB), so a 6-digit PIN costs an attacker
/// about four core-days; together with the 6-digit minimum this is the bound the
/// threat model in docs/security.md relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub passes: u32,
}

impl KdfParams {
    /// For every PIN set from now on.
    pub const CURRENT: Self = Self { memory_kib: 64 * 1024, passes: 3 };
    /// What lock files written before the cost was recorded were derived with.
    pub const LEGACY: Self = Self { memory_kib: 19 * 1024, passes: 2 };

    fn legacy() -> Self {
        Self::LEGACY
    }

    /// Refuses costs a damaged or tampered lock file could ask for (an attacker lowering the
    /// cost gains nothing: the key would not open the database).
    fn check(self) -> Result<Self, String> {
        if !(8 * 1024..=1024 * 1024).contains(&self.memory_kib) || !(1..=10).contains(&self.passes) {
            return Err("the lock file's key settings are damaged".into());
        }
        Ok(self)
    }
}

/// Wrong PINs before the local data is wiped, unless configured otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// The wrong-PIN limits a worker may choose in Settings: fewer than 3 wipes a tablet on a couple
/// of typos (losing what was not yet sent), more than 20 gives a guesser too many tries.
pub const MAX_ATTEMPTS_RANGE: std::ops::RangeInclusive<u32> = 3..=20;

/// Checks a wrong-PIN limit chosen in Settings.
pub fn check_max_attempts(attempts: u32) -> Result<u32, String> {
    if MAX_ATTEMPTS_RANGE.contains(&attempts) {
        Ok(attempts)
    } else {
        Err(format!(
            "the tablet is wiped after {} to {} wrong PINs",
            MAX_ATTEMPTS_RANGE.start(),
            MAX_ATTEMPTS_RANGE.end()
        ))
    }
}

/// A worker using the tablet (a display name; the id goes on their contacts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    pub id: String,
    pub name: String,
}

/// What is stored unencrypted next to the database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    /// Hex salt of the PIN's key derivation; absent until a PIN is set.
    pub salt: Option<String>,
    /// The key derivation's cost, fixed when the PIN was set.
    #[serde(default = "KdfParams::legacy")]
    pub kdf: KdfParams,
    pub failed_attempts: u32,
    /// No PIN is tried before this time (milliseconds since the epoch).
    pub locked_until_ms: u64,
    pub max_attempts: u32,
    pub idle_lock_minutes: u32,
    pub language: String,
    pub workers: Vec<Worker>,
    pub current_worker: Option<String>,
    /// Set when the local data was wiped (too many wrong PINs, or the device was revoked).
    pub wiped: bool,
}

impl Default for LockFile {
    fn default() -> Self {
        Self {
            salt: None,
            kdf: KdfParams::CURRENT,
            failed_attempts: 0,
            locked_until_ms: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            idle_lock_minutes: 5,
            language: "en".into(),
            workers: Vec::new(),
            current_worker: None,
            wiped: false,
        }
    }
}

impl LockFile {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("lock.json")
    }

    /// Reads the lock file, or the defaults on first start.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        match std::fs::read(Self::path(dir)) {
            Ok(bytes) => {
                let mut lock: Self = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
                // A damaged limit must neither wipe on the first typo nor allow endless guesses.
                lock.max_attempts = lock.max_attempts.clamp(*MAX_ATTEMPTS_RANGE.start(), *MAX_ATTEMPTS_RANGE.end());
                Ok(lock)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Writes the lock file atomically (a crash leaves the old or the new file, never half).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        crate::private_dir(dir)?;
        let tmp = dir.join("lock.json.tmp");
        // Readable by the app's user only, like the database.
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        std::fs::rename(tmp, Self::path(dir))
    }

    /// The worker with this name, added if new.
    pub fn worker(&mut self, name: &str) -> Worker {
        if let Some(w) = self.workers.iter().find(|w| w.name == name) {
            return w.clone();
        }
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let worker =
            Worker { id: outpost_core::RecordId::from_parts(ms, rand::random()).to_string(), name: name.to_string() };
        self.workers.push(worker.clone());
        worker
    }
}

/// What a wrong PIN leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrongPin {
    /// Too many: the local data must be wiped.
    Wipe,
    /// `left` more wrong PINs wipe the data; the next try waits `wait_ms`.
    Retry { left: u32, wait_ms: u64 },
}

impl LockFile {
    /// Whether a PIN may be tried at `now_ms`: `Err(ms)` to wait first (the PIN is then not
    /// checked at all, so it is not a wrong PIN either).
    pub fn may_try(&self, now_ms: u64) -> Result<(), u64> {
        if self.locked_until_ms > now_ms { Err(self.locked_until_ms - now_ms) } else { Ok(()) }
    }

    /// Counts a PIN about to be checked as wrong, to be saved before the check starts: a tablet
    /// switched off during a check (by someone guessing) keeps the count. The right PIN resets it
    /// ([`LockFile::right_pin`]); a wrong one then says what follows ([`LockFile::wrong_pin`]).
    pub fn begin_check(&mut self) {
        self.failed_attempts = self.failed_attempts.saturating_add(1);
    }

    /// The PIN counted by [`LockFile::begin_check`] was wrong: what follows, at `now_ms`.
    pub fn wrong_pin(&mut self, now_ms: u64) -> WrongPin {
        if self.failed_attempts >= self.max_attempts {
            return WrongPin::Wipe;
        }
        let left = self.max_attempts.saturating_sub(self.failed_attempts);
        let wait_ms = backoff_ms(self.failed_attempts, left);
        self.locked_until_ms = now_ms + wait_ms;
        WrongPin::Retry { left, wait_ms }
    }

    /// The right PIN: the count starts again.
    pub fn right_pin(&mut self) {
        self.failed_attempts = 0;
        self.locked_until_ms = 0;
    }

    /// A new PIN (its salt and key cost) for `worker`, on a tablet just enrolled.
    pub fn new_pin(&mut self, salt: String, kdf: KdfParams, worker: &str) {
        self.salt = Some(salt);
        self.kdf = kdf;
        self.failed_attempts = 0;
        self.locked_until_ms = 0;
        self.wiped = false;
        self.worker(worker);
        self.current_worker = Some(worker.to_string());
    }

    /// The id of the current worker, for the records they make.
    pub fn current_worker_id(&self) -> Option<String> {
        let name = self.current_worker.as_ref()?;
        self.workers.iter().find(|w| &w.name == name).map(|w| w.id.clone())
    }

    /// Workers who used this tablet, the current one first, then the most recently added.
    pub fn known_workers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.workers.iter().rev().map(|w| w.name.clone()).collect();
        if let Some(current) = &self.current_worker {
            names.retain(|n| n != current);
            names.insert(0, current.clone());
        }
        names
    }
}

/// Checks a worker's name or initials (1 to 60 characters, trimmed).
pub fn check_worker(worker: &str) -> Result<String, &'static str> {
    let worker = worker.trim();
    if worker.is_empty() || worker.chars().count() > 60 {
        return Err("the worker's name or initials: 1 to 60 characters");
    }
    Ok(worker.to_string())
}

/// How long to wait after `failed` wrong PINs with `left` more before the wipe: none for the
/// first typos, then 30 s doubling up to 15 minutes; and at least 30 s once only two tries are
/// left, so that a low limit never lets three quick taps erase the tablet.
pub fn backoff_ms(failed: u32, left: u32) -> u64 {
    let floor = if left <= 2 { 30_000 } else { 0 };
    if failed < 3 {
        return floor;
    }
    let steps = (failed - 3).min(5);
    (30_000u64 << steps).min(15 * 60 * 1000).max(floor)
}

/// Digits of a PIN typed to unlock (PINs set before the 6-digit minimum still unlock).
pub const UNLOCK_PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=12;
/// Digits of a new PIN.
pub const NEW_PIN_DIGITS: std::ops::RangeInclusive<usize> = 6..=12;

/// Checks the shape of a PIN typed to unlock: 4 to 12 digits (PINs set before the 6-digit
/// minimum still unlock).
pub fn check_pin(pin: &str) -> Result<(), &'static str> {
    if !UNLOCK_PIN_DIGITS.contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the PIN is 4 to 12 digits");
    }
    Ok(())
}

/// Checks a new PIN: 6 to 12 digits, not all one digit and not a run (123456, 987654), the
/// first guesses of anyone holding a lost tablet. The app's form applies the same rules.
pub fn check_new_pin(pin: &str) -> Result<(), &'static str> {
    if !NEW_PIN_DIGITS.contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a new PIN is 6 to 12 digits");
    }
    let bytes = pin.as_bytes();
    let steps: Vec<i16> = bytes.windows(2).map(|w| i16::from(w[1]) - i16::from(w[0])).collect();
    if steps.iter().all(|&d| d == 0) || steps.iter().all(|&d| d == 1) || steps.iter().all(|&d| d == -1) {
        return Err("this PIN is too easy to guess: avoid repeated digits and runs like 123456");
    }
    Ok(())
}

/// A fresh random salt, hex.
pub fn new_salt() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Derives the database key from the PIN and the salt (Argon2id at the given cost).
pub fn derive_key(pin: &str, salt_hex: &str, kdf: KdfParams) -> Result<StoreKey, String> {
    let kdf = kdf.check()?;
    let salt = hex::decode(salt_hex).map_err(|_| "the lock file's salt is damaged".to_string())?;
    let params = argon2::Params::new(kdf.memory_kib, kdf.passes, 1, Some(32)).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    argon.hash_password_into(pin.as_bytes(), &salt, key.as_mut()).map_err(|e| e.to_string())?;
    Ok(StoreKey::from_bytes(*key))
}

/// Deletes the local database and its journal files.
pub fn wipe(dir: &Path) -> std::io::Result<()> {
    for name in ["device.db", "device.db-wal", "device.db-shm"] {
        match std::fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_directory_lock_file_and_database_are_private() -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        let root = tempfile::tempdir()?;
        let dir = root.path().join("app");
        LockFile::default().save(&dir)?;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&LockFile::path(&dir)), 0o600);
        let db = dir.join("device.db");
        let key = outpost_device::store::StoreKey::from_bytes([7; 32]);
        drop(outpost_device::store::DeviceStore::open(&db, &key).map_err(std::io::Error::other)?);
        assert_eq!(mode(&db), 0o600);
        Ok(())
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let with_ten = |failed| backoff_ms(failed, 10 - failed);
        assert_eq!([0, 1, 2].map(with_ten), [0, 0, 0]);
        assert_eq!(with_ten(3), 30_000);
        assert_eq!(with_ten(4), 60_000);
        assert_eq!(with_ten(7), 480_000);
        assert_eq!(backoff_ms(8, 12), 900_000);
        assert_eq!(backoff_ms(50, 3), 900_000);
        // A low limit: two tries left means a wait even after the first typo.
        assert_eq!(backoff_ms(1, 2), 30_000);
        assert_eq!(backoff_ms(2, 1), 30_000);
        assert_eq!(with_ten(8), 900_000, "the floor never shortens a longer wait");
    }

    #[test]
    fn pins_are_digits() {
        assert!(check_pin("2580").is_ok(), "a 4-digit PIN set before the 6-digit minimum still unlocks");
        assert!(check_pin("123").is_err());
        assert!(check_pin("12a4").is_err());
        assert!(check_pin("1234567890123").is_err());
    }

    #[test]
    fn new_pins_are_six_digits_and_not_the_first_guesses() {
        assert!(check_new_pin("258036").is_ok());
        assert!(check_new_pin("904172118").is_ok());
        for weak in
            ["2580", "12345", "000000", "777777777", "123456", "987654", "0123456789", "12a456", "1234567890123"]
        {
            assert!(check_new_pin(weak).is_err(), "{weak} must be refused");
        }
    }

    #[test]
    fn the_same_pin_and_salt_give_the_same_key_and_others_do_not() -> Result<(), String> {
        let salt = new_salt();
        let kdf = KdfParams::CURRENT;
        let a = format!("{:?}", derive_key("258036", &salt, kdf)?);
        assert_eq!(a, "StoreKey(<hidden>)", "keys never print");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("device.db");
        outpost_device::DeviceStore::open(&path, &derive_key("258036", &salt, kdf)?).map_err(|e| e.to_string())?;
        assert!(outpost_device::DeviceStore::open(&path, &derive_key("258036", &salt, kdf)?).is_ok());
        assert!(outpost_device::DeviceStore::open(&path, &derive_key("258037", &salt, kdf)?).is_err());
        assert!(outpost_device::DeviceStore::open(&path, &derive_key("258036", &new_salt(), kdf)?).is_err());
        assert!(
            outpost_device::DeviceStore::open(&path, &derive_key("258036", &salt, KdfParams::LEGACY)?).is_err(),
            "the cost is part of the key"
        );
        Ok(())
    }

    #[test]
    fn a_lock_file_from_before_the_recorded_cost_keeps_the_old_cost() -> Result<(), String> {
        let old = r#"{"salt":"00112233445566778899aabbccddeeff","failed_attempts":0,"locked_until_ms":0,
            "max_attempts":10,"idle_lock_minutes":5,"language":"en","workers":[],"current_worker":null,"wiped":false}"#;
        let lock: LockFile = serde_json::from_str(old).map_err(|e| e.to_string())?;
        assert_eq!(lock.kdf, KdfParams::LEGACY);
        assert_eq!(LockFile::default().kdf, KdfParams::CURRENT, "new PINs get the current cost");
        Ok(())
    }

    #[test]
    fn a_damaged_cost_is_refused_before_any_work() {
        let salt = new_salt();
        for kdf in [
            KdfParams { memory_kib: 16, passes: 3 },
            KdfParams { memory_kib: u32::MAX, passes: 3 },
            KdfParams { memory_kib: 65_536, passes: 0 },
            KdfParams { memory_kib: 65_536, passes: 1_000 },
        ] {
            assert_eq!(
                derive_key("258036", &salt, kdf).map(|_| ()),
                Err("the lock file's key settings are damaged".to_string())
            );
        }
    }

    #[test]
    fn the_wrong_pin_limit_is_three_to_twenty_and_a_damaged_one_is_brought_into_range() -> std::io::Result<()> {
        assert_eq!(check_max_attempts(3), Ok(3));
        assert_eq!(check_max_attempts(20), Ok(20));
        for bad in [0, 1, 2, 21, u32::MAX] {
            assert_eq!(check_max_attempts(bad), Err("the tablet is wiped after 3 to 20 wrong PINs".into()), "{bad}");
        }
        let dir = tempfile::tempdir()?;
        for (stored, loaded) in [(0, 3), (1, 3), (7, 7), (1000, 20)] {
            LockFile { max_attempts: stored, ..LockFile::default() }.save(dir.path())?;
            assert_eq!(LockFile::load(dir.path())?.max_attempts, loaded, "stored {stored}");
        }
        Ok(())
    }

    #[test]
    fn lock_file_round_trips_and_wipe_removes_the_database() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut lock = LockFile::load(dir.path())?;
        assert_eq!(lock, LockFile::default());
        let worker = lock.worker("Anna");
        assert_eq!(lock.worker("Anna"), worker, "the same name is the same worker");
        lock.save(dir.path())?;
        assert_eq!(LockFile::load(dir.path())?, lock);
        std::fs::write(dir.path().join("device.db"), b"x")?;
        wipe(dir.path())?;
        assert!(!dir.path().join("device.db").exists());
        wipe(dir.path())
    }

    #[test]
    fn wrong_pins_wait_longer_and_then_wipe() {
        let mut lock = LockFile { max_attempts: 5, ..LockFile::default() };
        assert_eq!(lock.may_try(0), Ok(()));
        let wrong = |lock: &mut LockFile, now| {
            lock.begin_check();
            lock.wrong_pin(now)
        };
        assert_eq!(wrong(&mut lock, 1_000), WrongPin::Retry { left: 4, wait_ms: 0 });
        assert_eq!(wrong(&mut lock, 1_000), WrongPin::Retry { left: 3, wait_ms: 0 });
        assert_eq!(wrong(&mut lock, 1_000), WrongPin::Retry { left: 2, wait_ms: 30_000 });
        assert_eq!(lock.may_try(1_000), Err(30_000), "no PIN is checked during the wait");
        assert_eq!(lock.may_try(31_000), Ok(()));
        lock.right_pin();
        assert_eq!((lock.failed_attempts, lock.may_try(1_000)), (0, Ok(())));
        for _ in 0..4 {
            wrong(&mut lock, 50_000);
        }
        assert_eq!(wrong(&mut lock, 50_000), WrongPin::Wipe);
        // A check cut short (the tablet switched off) still counts: the saved file has it.
        let dir = tempfile::tempdir().map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        let mut lock = LockFile { max_attempts: 5, ..LockFile::default() };
        lock.begin_check();
        lock.save(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let reloaded = LockFile::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reloaded.failed_attempts, 1);
    }

    #[test]
    fn workers_are_listed_the_current_one_first() {
        let mut lock = LockFile::default();
        lock.new_pin(new_salt(), KdfParams::CURRENT, "Anna");
        lock.worker("Boris");
        lock.worker("Chen");
        assert_eq!(lock.known_workers(), ["Anna", "Chen", "Boris"]);
        assert!(lock.current_worker_id().is_some());
        assert_eq!(check_worker("  Anna "), Ok("Anna".to_string()));
        assert!(check_worker(" ").is_err() && check_worker(&"x".repeat(61)).is_err());
    }
}
