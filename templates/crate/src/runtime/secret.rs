//! The server's secret key and the message authentication codes made with it.
//!
//! Connection cursors carry an HMAC-SHA256 tag, so a client cannot forge or alter one to read
//! past the rows its query selects. The key comes from `CURSOR_SECRET`; without it, a random key
//! is created once per installation, in a file beside the SQLite database (readable by its owner
//! only), so cursors stay valid across restarts.

use std::path::Path;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes of the tag kept in a cursor (128 bits).
const TAG_BYTES: usize = 16;

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

/// Sets the key (at start-up): derived from `secret` when configured, else read from (or
/// created in) `key_file`. A database without a file (`:memory:`) gets a key for this process.
pub fn init(secret: Option<&str>, key_file: Option<&Path>) -> Result<(), String> {
    let key = match (secret, key_file) {
        (Some(secret), _) => Sha256::digest(secret.as_bytes()).into(),
        (None, Some(path)) => load_or_create(path)?,
        (None, None) => random(),
    };
    let _ = KEY.set(key);
    Ok(())
}

fn key() -> &'static [u8; 32] {
    KEY.get_or_init(random)
}

/// 32 random bytes (from the operating system's generator, through UUID v4: 244 random bits).
pub fn random() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

fn load_or_create(path: &Path) -> Result<[u8; 32], String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let bytes = hex_decode(text.trim()).ok_or_else(|| {
            format!(
                "`{}` does not hold a key; delete it to make a new one",
                path.display()
            )
        })?;
        return bytes.try_into().map_err(|_| {
            format!(
                "`{}` does not hold a 32-byte key; delete it to make a new one",
                path.display()
            )
        });
    }
    let key = random();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create the key file `{}`: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, hex(&key).as_bytes())
        .map_err(|e| format!("cannot write the key file `{}`: {e}", path.display()))?;
    Ok(key)
}

/// The tag of `message`, as hex.
pub fn tag(message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key()).expect("HMAC takes any key length");
    mac.update(message);
    hex(&mac.finalize().into_bytes()[..TAG_BYTES])
}

/// Whether `tag` is the tag of `message` (compared in constant time).
pub fn verify(message: &[u8], tag: &str) -> bool {
    let Some(tag) = hex_decode(tag).filter(|t| t.len() == TAG_BYTES) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key()).expect("HMAC takes any key length");
    mac.update(message);
    mac.verify_truncated_left(&tag).is_ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_verify_and_alterations_do_not() {
        let tag = tag(b"0123.[1,\"a\"]");
        assert_eq!(tag.len(), TAG_BYTES * 2);
        assert!(verify(b"0123.[1,\"a\"]", &tag));
        assert!(!verify(b"0123.[2,\"a\"]", &tag));
        assert!(!verify(b"0123.[1,\"a\"]", &tag[..30]));
        assert!(!verify(b"0123.[1,\"a\"]", "zz"));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("secret-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.db.key");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), first);
        std::fs::write(&path, "not hex").unwrap();
        assert!(load_or_create(&path).unwrap_err().contains("delete it"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
