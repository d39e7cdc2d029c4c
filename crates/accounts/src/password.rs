//! Password hashing with Argon2id: a random salt per hash, PHC strings that carry their
//! parameters, and a dummy verification so unknown emails cost what wrong passwords cost.
//!
//! Argon2's working memory (19 MiB per hash at the production cost) comes from a small
//! pool of reusable buffers, one per permitted concurrent hash, instead of a fresh
//! allocation per hash: freed buffers of that size are kept by the allocator (glibc raises
//! its mmap threshold after the first free and serves later ones from per-thread arenas),
//! which let a burst of failed logins leave the process holding well over a gigabyte.
//! With the pool, hashing memory is bounded by `max_concurrent_hashes` × `m_cost`.

use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use core_models::{AppError, AppResult};

/// Caps how many hashes run at once and owns their working memory. Argon2 takes ~15 ms of
/// CPU on the same blocking threads database calls use: a flood of logins must not starve
/// every other request, so past the cap a caller gets 503 at once rather than a place in
/// a queue (the HTTP layer's `HashGate` does the queueing).
#[derive(Debug)]
pub(crate) struct HashSlots {
    state: Mutex<SlotState>,
    max: usize,
}

#[derive(Debug, Default)]
struct SlotState {
    busy: usize,
    /// Buffers of finished hashes, ready for the next; never more than `max`.
    idle: Vec<Vec<Block>>,
}

/// One running hash and its Argon2 memory; gives both back when dropped.
pub(crate) struct HashSlot<'a> {
    slots: &'a HashSlots,
    memory: Vec<Block>,
}

impl fmt::Debug for HashSlot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashSlot").field("blocks", &self.memory.len()).finish()
    }
}

impl HashSlot<'_> {
    /// At least `blocks` Argon2 blocks, grown once per buffer and reused afterwards.
    fn memory(&mut self, blocks: usize) -> &mut [Block] {
        if self.memory.len() < blocks {
            self.memory.resize(blocks, Block::default());
        }
        &mut self.memory[..blocks]
    }
}

impl Drop for HashSlot<'_> {
    fn drop(&mut self) {
        let mut state = self.slots.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.busy = state.busy.saturating_sub(1);
        if state.idle.len() < self.slots.max {
            state.idle.push(std::mem::take(&mut self.memory));
        }
    }
}

impl HashSlots {
    pub fn new(max: usize) -> Self {
        HashSlots { state: Mutex::new(SlotState::default()), max }
    }

    /// A slot with a reused buffer, or 503 when `max` hashes are already running.
    pub fn acquire(&self) -> AppResult<HashSlot<'_>> {
        // A poisoned lock only means another thread panicked mid-update; the state is whole.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.busy >= self.max {
            return Err(AppError::Unavailable("too many logins and registrations at once; retry in a moment".into()));
        }
        state.busy += 1;
        let memory = state.idle.pop().unwrap_or_default();
        Ok(HashSlot { slots: self, memory })
    }

    /// Bytes of Argon2 memory held by idle buffers (for tests of the bound).
    #[cfg(test)]
    fn idle_bytes(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.idle.iter().map(|b| b.len() * std::mem::size_of::<Block>()).sum()
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

fn internal(context: &str, e: impl fmt::Display) -> AppError {
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

    /// An Argon2id PHC string of `password` with a fresh 128-bit random salt, computed in
    /// the slot's memory.
    pub fn hash(&self, slot: &mut HashSlot<'_>, password: &str) -> AppResult<String> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| internal("decoding a fresh salt", e))?;
        let mut out = vec![0u8; self.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        self.argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_bytes,
                &mut out,
                slot.memory(self.params.block_count()),
            )
            .map_err(|e| internal("hashing a password", e))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| internal("encoding parameters", e))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| internal("encoding a hash", e))?),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` matches the stored PHC string (the outputs are compared in
    /// constant time by `password_hash::Output`). The hash's own algorithm and parameters
    /// are used, so old hashes keep working after the configured cost changes.
    pub fn verify(&self, slot: &mut HashSlot<'_>, password: &str, stored: &str) -> AppResult<bool> {
        let corrupt = |e: argon2::password_hash::Error| internal("a stored password hash does not parse", e);
        let parsed = PasswordHash::new(stored).map_err(corrupt)?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(corrupt)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| internal("a stored password hash has an unknown version", e))?
            .unwrap_or_default();
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(corrupt(argon2::password_hash::Error::PhcStringField));
        };
        // Carries the output length of the stored hash.
        let params = Params::try_from(&parsed).map_err(corrupt)?;
        let blocks = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(corrupt)?;
        let mut out = vec![0u8; expected.len()];
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, slot.memory(blocks))
            .map_err(|e| internal("verifying a password", e))?;
        let computed = Output::new(&out).map_err(|e| internal("encoding a hash", e))?;
        Ok(computed == expected)
    }

    /// Spends the time of one verification on a hash no password matches.
    pub fn verify_dummy(&self, slot: &mut HashSlot<'_>, password: &str) -> AppResult<()> {
        let dummy = match self.dummy.get() {
            Some(dummy) => dummy,
            None => {
                // Two first callers may both compute one; either result serves.
                let fresh = self.hash(slot, SaltString::generate(&mut OsRng).as_str())?;
                self.dummy.get_or_init(|| fresh)
            }
        };
        self.verify(slot, password, dummy).map(|_| ())
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
        assert_eq!(slots.state.lock().unwrap().busy, 0);
        assert_eq!(HashSlots::new(0).acquire().unwrap_err().status_code(), 503);
    }

    #[test]
    fn hashing_memory_is_reused_and_bounded_by_the_slots() {
        let params = Params::new(64, 1, 1, Some(32)).unwrap();
        let passwords = Passwords::new(params);
        let slots = HashSlots::new(2);
        for _ in 0..50 {
            let mut a = slots.acquire().unwrap();
            let mut b = slots.acquire().unwrap();
            passwords.hash(&mut a, "pw").unwrap();
            passwords.hash(&mut b, "pw").unwrap();
        }
        // Two buffers of 64 KiB however many hashes ran: one per permitted concurrent hash.
        assert_eq!(slots.idle_bytes(), 2 * 64 * 1024);
    }

    #[test]
    fn reused_memory_gives_the_same_hash_as_fresh_memory() {
        let params = Params::new(64, 2, 1, Some(32)).unwrap();
        let passwords = Passwords::new(params);
        let slots = HashSlots::new(1);
        let mut slot = slots.acquire().unwrap();
        let first = passwords.hash(&mut slot, "correct horse").unwrap();
        // The buffer now holds the first hash's state; verifying must not depend on it.
        passwords.hash(&mut slot, "something else").unwrap();
        assert!(passwords.verify(&mut slot, "correct horse", &first).unwrap());
        // And the argon2 crate's own verifier (fresh memory) agrees with ours.
        use argon2::password_hash::PasswordVerifier;
        let parsed = PasswordHash::new(&first).unwrap();
        Argon2::default().verify_password(b"correct horse", &parsed).unwrap();
    }
    use crate::config::insecure_test_password_params;

    fn cheap() -> Passwords {
        Passwords::new(insecure_test_password_params())
    }

    /// A hash slot of a throwaway pool, for one-off hashes in tests.
    fn with_slot<T>(f: impl FnOnce(&mut HashSlot<'_>) -> T) -> T {
        let slots = HashSlots::new(1);
        let mut slot = slots.acquire().unwrap();
        f(&mut slot)
    }

    #[test]
    fn hashes_are_salted_argon2id_phc_strings() {
        let passwords = cheap();
        let a = with_slot(|s| passwords.hash(s, "correct horse")).unwrap();
        let b = with_slot(|s| passwords.hash(s, "correct horse")).unwrap();
        assert_ne!(a, b, "a fresh salt every time");
        assert!(a.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{a}");
        assert!(!a.contains("correct horse"));
        assert!(with_slot(|s| passwords.verify(s, "correct horse", &a)).unwrap());
        assert!(!with_slot(|s| passwords.verify(s, "correct horsf", &a)).unwrap());
    }

    #[test]
    fn corrupt_stored_hashes_are_internal_errors_not_mismatches() {
        assert_eq!(with_slot(|s| cheap().verify(s, "x", "not a phc string")).unwrap_err().status_code(), 500);
    }

    #[test]
    fn dummy_verification_matches_nothing_and_is_computed_once() {
        let passwords = cheap();
        with_slot(|s| passwords.verify_dummy(s, "anything")).unwrap();
        let first = passwords.dummy.get().cloned().unwrap();
        with_slot(|s| passwords.verify_dummy(s, "else")).unwrap();
        assert_eq!(passwords.dummy.get(), Some(&first));
    }

    #[test]
    fn hashes_of_another_cost_need_a_rehash() {
        let cheap_hash = with_slot(|s| cheap().hash(s, "pw")).unwrap();
        assert!(!cheap().needs_rehash(&cheap_hash));
        let stronger = Passwords::new(Params::new(16, 2, 1, Some(32)).unwrap());
        assert!(stronger.needs_rehash(&cheap_hash));
        assert!(with_slot(|s| stronger.verify(s, "pw", &cheap_hash)).unwrap(), "old hashes keep verifying");
        assert!(cheap().needs_rehash("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"));
        assert!(cheap().needs_rehash("garbage"));
    }
}
