//! Password hashing with Argon2id: a random salt per hash, PHC strings that carry their
//! parameters, and a dummy verification so unknown emails cost what wrong passwords cost.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use core_models::{AppError, AppResult};

/// Caps how many hashes run at once. Argon2 takes ~15 ms of CPU on the same blocking
/// threads database calls use: a flood of logins must not starve every other request, so
/// past the cap a caller gets 503 at once rather than a place in a queue.
#[derive(Debug)]
pub(crate) struct HashSlots {
    busy: AtomicUsize,
    max: usize,
}

/// One running hash; frees its slot when dropped.
#[derive(Debug)]
pub(crate) struct HashSlot<'a>(&'a AtomicUsize);

impl Drop for HashSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashSlots {
    pub fn new(max: usize) -> Self {
        HashSlots { busy: AtomicUsize::new(0), max }
    }

    /// A slot, or 503 when `max` hashes are already running.
    pub fn acquire(&self) -> AppResult<HashSlot<'_>> {
        if self.busy.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::Unavailable("too many logins and registrations at once; retry in a moment".into()));
        }
        Ok(HashSlot(&self.busy))
    }
}

/// Hashes and verifies passwords with one configured cost.
pub(crate) struct Passwords {
    argon: Argon2<'static>,
    params: Params,
    /// A hash of a random password, verified against when the email is unknown so that
    /// the answer takes as long as for a known email with a wrong password.
    dummy: OnceLock<String>,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords").field("params", &self.params).finish_non_exhaustive()
    }
}

fn internal(context: &str, e: argon2::password_hash::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("{context}: {e}"))
}

impl Passwords {
    pub fn new(params: Params) -> Self {
        Passwords {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            params,
            dummy: OnceLock::new(),
        }
    }

    /// An Argon2id PHC string of `password` with a fresh 128-bit random salt.
    pub fn hash(&self, password: &str) -> AppResult<String> {
        let salt = SaltString::generate(&mut OsRng);
        let hash =
            self.argon.hash_password(password.as_bytes(), &salt).map_err(|e| internal("hashing a password", e))?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches the stored PHC string (compared in constant time by the
    /// argon2 crate). The hash's own parameters are used, so old hashes keep working after
    /// the configured cost changes.
    pub fn verify(&self, password: &str, stored: &str) -> AppResult<bool> {
        let parsed = PasswordHash::new(stored).map_err(|e| internal("a stored password hash does not parse", e))?;
        match self.argon.verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(internal("verifying a password", e)),
        }
    }

    /// Spends the time of one verification on a hash no password matches.
    pub fn verify_dummy(&self, password: &str) -> AppResult<()> {
        let dummy = match self.dummy.get() {
            Some(dummy) => dummy,
            None => {
                // Two first callers may both compute one; either result serves.
                let fresh = self.hash(SaltString::generate(&mut OsRng).as_str())?;
                self.dummy.get_or_init(|| fresh)
            }
        };
        self.verify(password, dummy).map(|_| ())
    }

    /// Whether a stored hash was made with other than the configured algorithm or cost,
    /// and should be replaced at the next successful login.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else { return true };
        let same_algorithm = parsed.algorithm == Algorithm::Argon2id.ident()
            && parsed.version == Some(Version::V0x13.into())
            && parsed.hash.is_some_and(|h| Some(h.len()) == self.params.output_len());
        let same_cost = Params::try_from(&parsed).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost()) == (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
        });
        !(same_algorithm && same_cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_slots_cap_concurrency_and_free_on_drop() {
        let slots = HashSlots::new(2);
        let a = slots.acquire().unwrap();
        let b = slots.acquire().unwrap();
        assert_eq!(slots.acquire().unwrap_err().status_code(), 503);
        drop(a);
        let c = slots.acquire().unwrap();
        drop((b, c));
        assert_eq!(slots.busy.load(Ordering::Acquire), 0);
        assert_eq!(HashSlots::new(0).acquire().unwrap_err().status_code(), 503);
    }
    use crate::config::insecure_test_password_params;

    fn cheap() -> Passwords {
        Passwords::new(insecure_test_password_params())
    }

    #[test]
    fn hashes_are_salted_argon2id_phc_strings() {
        let passwords = cheap();
        let a = passwords.hash("correct horse").unwrap();
        let b = passwords.hash("correct horse").unwrap();
        assert_ne!(a, b, "a fresh salt every time");
        assert!(a.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{a}");
        assert!(!a.contains("correct horse"));
        assert!(passwords.verify("correct horse", &a).unwrap());
        assert!(!passwords.verify("correct horsf", &a).unwrap());
    }

    #[test]
    fn corrupt_stored_hashes_are_internal_errors_not_mismatches() {
        assert_eq!(cheap().verify("x", "not a phc string").unwrap_err().status_code(), 500);
    }

    #[test]
    fn dummy_verification_matches_nothing_and_is_computed_once() {
        let passwords = cheap();
        passwords.verify_dummy("anything").unwrap();
        let first = passwords.dummy.get().cloned().unwrap();
        passwords.verify_dummy("else").unwrap();
        assert_eq!(passwords.dummy.get(), Some(&first));
    }

    #[test]
    fn hashes_of_another_cost_need_a_rehash() {
        let cheap_hash = cheap().hash("pw").unwrap();
        assert!(!cheap().needs_rehash(&cheap_hash));
        let stronger = Passwords::new(Params::new(16, 2, 1, Some(32)).unwrap());
        assert!(stronger.needs_rehash(&cheap_hash));
        assert!(stronger.verify("pw", &cheap_hash).unwrap(), "old hashes keep verifying");
        assert!(cheap().needs_rehash("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"));
        assert!(cheap().needs_rehash("garbage"));
    }
}
