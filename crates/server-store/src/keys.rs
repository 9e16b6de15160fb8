//! The server key: 256 random bits kept **outside** the database (a file `server.key` in the
//! data directory, readable by the server's user only, or the `OUTPOST_SERVER_KEY` variable), so
//! that a copy of the database alone (a backup, a stolen disk image of a PostgreSQL server, an
//! `outpost-server export` file) is not enough to:
//!
//! * read the staff's second-factor (TOTP) secrets: they are sealed with XChaCha20-Poly1305
//!   ([`ServerKey::seal`]);
//! * forge the audit log: each entry's hash is an HMAC-SHA-256 over the previous one
//!   ([`ServerKey::audit_mac`]), and checkpoints written outside the database are signed with it
//!   ([`ServerKey::checkpoint_mac`]);
//! * learn what was typed as a user name in a failed login: unknown names are recorded as a
//!   keyed hash ([`ServerKey::name_tag`]), so repeated attempts still group together.
//!
//! Each use has its own sub-key (HMAC of the key over the use's label). The database records the
//! key's fingerprint, and a server started with another key refuses to start
//! ([`crate::Store::open`]) instead of writing with a key the old entries do not verify with.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::{Path, PathBuf};
use thiserror::Error;
use zeroize::Zeroizing;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "server.key";

/// The prefix of a sealed value (version 1: XChaCha20-Poly1305, 24-byte nonce, then the
/// ciphertext with its tag, hex encoded).
pub const SEALED_PREFIX: &str = "sealed1:";

const NONCE_LEN: usize = 24;

/// Why the key cannot be loaded or a value unsealed.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("the server key must be 64 hexadecimal characters (256 bits); {0}")]
    Malformed(String),
    #[error("the server key file {path} cannot be read or written: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the server key file {0} is readable by other users of this machine; make it private (chmod 600) and start again"
    )]
    Exposed(PathBuf),
    #[error("a sealed value cannot be opened with this server key (it was sealed with another key, or changed)")]
    Unseal,
}

/// The server key. Its bytes never appear in `Debug` output or logs.
#[derive(Clone)]
pub struct ServerKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKey({})", self.fingerprint())
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length: this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

impl ServerKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self { bytes }
    }

    /// A key from its 64 hexadecimal characters (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = Zeroizing::new(text.trim().to_string());
        if text.len() != 64 {
            return Err(KeyError::Malformed(format!("this one has {} characters", text.chars().count())));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.as_bytes(), bytes.as_mut())
            .map_err(|_| KeyError::Malformed("this one has other characters".into()))?;
        Ok(Self { bytes })
    }

    /// Reads `DIR/server.key`, creating it (and the directory, private to this user) with a new
    /// random key when it does not exist. A key file other users may read is refused.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io { path: path.clone(), source };
        if path.exists() {
            return Self::load(dir);
        }
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut file) => {
                let key = Self::generate();
                let text = Zeroizing::new(hex::encode(key.bytes.as_ref()) + "\n");
                file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
                tracing::info!(path = %path.display(), "created the server key: back it up apart from the database");
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(dir),
            Err(e) => Err(io(e)),
        }
    }

    /// Reads `DIR/server.key`.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io { path: path.clone(), source };
        let meta = std::fs::metadata(&path).map_err(io)?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::Exposed(path));
        }
        let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(io)?);
        Self::from_hex(&text)
    }

    fn subkey(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(mac(self.bytes.as_ref(), &[b"outpost-server-key", purpose.as_bytes()]))
    }

    /// A short public name of the key (16 hexadecimal characters), recorded in the database to
    /// notice a server started with another key. It reveals nothing of the key.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.subkey("fingerprint")[..8])
    }

    /// The keyed hash of an audit entry's canonical form.
    pub fn audit_mac(&self, canonical: &[u8]) -> String {
        hex::encode(mac(self.subkey("audit").as_ref(), &[canonical]))
    }

    /// The signature of a checkpoint: the chain's head `entry` with `hash`, taken at `at_ms`.
    pub fn checkpoint_mac(&self, entry: i64, hash: &str, at_ms: i64) -> String {
        let entry = entry.to_be_bytes();
        let at = at_ms.to_be_bytes();
        hex::encode(mac(self.subkey("audit-checkpoint").as_ref(), &[&entry, hash.as_bytes(), &at]))
    }

    /// A stable keyed tag of something that must not be stored as typed (an unknown login
    /// name): equal inputs give equal tags, and without the key the input cannot be guessed
    /// from the tag by trying names.
    pub fn name_tag(&self, name: &str) -> String {
        hex::encode(&mac(self.subkey("name-tag").as_ref(), &[name.as_bytes()])[..8])
    }

    /// Seals `plain` (authenticated encryption with a random nonce).
    pub fn seal(&self, plain: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.subkey("seal").as_ref().into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption into a vector fails only when out of memory.
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 encrypts any length that fits in memory"));
        let mut out = String::from(SEALED_PREFIX);
        out.push_str(&hex::encode(nonce));
        out.push_str(&hex::encode(sealed));
        out
    }

    /// Opens a value [`Self::seal`] made with this key.
    pub fn unseal(&self, sealed: &str) -> Result<Zeroizing<String>, KeyError> {
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or(KeyError::Unseal)?;
        let bytes = hex::decode(body).map_err(|_| KeyError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(KeyError::Unseal);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(self.subkey("seal").as_ref().into());
        let plain = cipher.decrypt(XNonce::from_slice(nonce), sealed).map_err(|_| KeyError::Unseal)?;
        String::from_utf8(plain).map(Zeroizing::new).map_err(|_| KeyError::Unseal)
    }
}

/// Whether a stored value is sealed (values written before sealing existed are not).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn sealed_values_open_only_with_their_key_and_unchanged() {
        let key = ServerKey::generate();
        let sealed = key.seal("JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(sealed, key.seal("JBSWY3DPEHPK3PXP"), "a fresh nonce each time");
        assert_eq!(key.unseal(&sealed).map(|p| p.to_string()).ok().as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert!(matches!(ServerKey::generate().unseal(&sealed), Err(KeyError::Unseal)));
        let mut flipped = sealed.clone();
        let last = flipped.pop().map(|c| if c == '0' { '1' } else { '0' });
        flipped.extend(last);
        assert!(matches!(key.unseal(&flipped), Err(KeyError::Unseal)));
        assert!(matches!(key.unseal("JBSWY3DPEHPK3PXP"), Err(KeyError::Unseal)));
        assert!(matches!(key.unseal("sealed1:00"), Err(KeyError::Unseal)));
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() -> Result<(), KeyError> {
        let dir = tempfile::tempdir().map_err(|source| KeyError::Io { path: PathBuf::new(), source })?;
        let data = dir.path().join("data");
        let key = ServerKey::load_or_create(&data)?;
        let file = data.join(KEY_FILE);
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&file), 0o600);
        let again = ServerKey::load_or_create(&data)?;
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert_eq!(key.name_tag("alice"), again.name_tag("alice"));
        assert_ne!(key.name_tag("alice"), key.name_tag("alicf"));
        assert_ne!(key.name_tag("alice"), ServerKey::generate().name_tag("alice"));

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
            .map_err(|source| KeyError::Io { path: file.clone(), source })?;
        assert!(matches!(ServerKey::load(&data), Err(KeyError::Exposed(_))));
        Ok(())
    }

    #[test]
    fn malformed_keys_are_refused_with_a_reason() {
        assert!(ServerKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(ServerKey::from_hex(&format!("  {}\n", "ab".repeat(32))).is_ok());
        let short = ServerKey::from_hex("abcd").map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            short,
            Err("the server key must be 64 hexadecimal characters (256 bits); this one has 4 characters".into())
        );
        assert!(matches!(ServerKey::from_hex(&"zz".repeat(32)), Err(KeyError::Malformed(_))));
        assert!(!format!("{:?}", ServerKey::from_hex(&"ab".repeat(32))).contains(&"ab".repeat(32)));
    }
}
