//! Argon2id password hashing for `hub_core::accounts` (OWASP's minimum parameters: 19 MiB,
//! 2 passes, 1 lane — the argon2 crate's defaults).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::Argon2;
use hub_core::accounts::PasswordHasher;
use std::sync::{Arc, OnceLock};

pub struct Argon2Hasher;

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> Result<String, String> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

/// The hasher the UI and `hub admin create` use.
pub fn password_hasher() -> Arc<dyn PasswordHasher> {
    static H: OnceLock<Arc<dyn PasswordHasher>> = OnceLock::new();
    H.get_or_init(|| Arc::new(Argon2Hasher)).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_right_password() {
        // Each hash costs about a second in an unoptimized build: one hash, two checks.
        let h = Argon2Hasher;
        let a = h.hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert!(!a.contains("correct horse battery"));
        assert!(h.verify("correct horse battery", &a));
        assert!(!h.verify("wrong horse battery", &a));
        assert!(!h.verify("correct horse battery", "not a hash"));
    }
}
