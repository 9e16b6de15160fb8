//! Secrets handed to people and devices: one-time enrolment codes, device tokens and session
//! tokens. Only their SHA-256 hashes are stored, so a copy of the database does not let anyone
//! enrol, sync or log in.

use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// `groups` groups of four characters of the unambiguous alphabet, joined by dashes.
fn grouped(groups: usize) -> String {
    let mut rng = rand::thread_rng();
    let chars: Vec<char> =
        (0..groups * 4).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A new enrolment code, `XXXX-XXXX-XXXX` (about 59 bits).
pub fn new_enrollment_code() -> String {
    grouped(3)
}

/// A temporary password an administrator reads out or prints, `XXXX-XXXX-XXXX-XXXX-XXXX` (about
/// 99 bits, no letters that look alike); the user replaces it at the first login.
pub fn new_temporary_password() -> String {
    grouped(5)
}

/// The stored form of an enrolment code: case, spaces and dashes do not matter when typed.
pub fn hash_enrollment_code(code: &str) -> String {
    let normalised: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// A new token: 32 random bytes, base64url.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typable_and_hash_the_same_however_typed() {
        let code = new_enrollment_code();
        assert_eq!(code.len(), 14);
        assert!(code.chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        let sloppy = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert_eq!(hash_enrollment_code(&sloppy), hash_enrollment_code(&code));
        assert_ne!(new_token(), new_token());
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
