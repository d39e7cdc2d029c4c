//! Bearer tokens: 256 random bits, shown to the client once as base64url, stored only as
//! their SHA-256.
//!
//! A fast hash is right here (unlike for passwords): a token has 256 bits of entropy, so
//! nobody can guess one from its hash however fast the hash is, and the hash must be
//! deterministic (unsalted) so that a request's token is found with one index lookup.

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use core_models::{AppError, AppResult};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;
/// Characters of a token in base64url without padding: ceil(32 * 4 / 3).
pub const TOKEN_LEN: usize = 43;

/// A freshly issued bearer token, as the client receives it once at login.
///
/// `Debug` never shows the secret; serialising it (into the login response) does.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    encoded: String,
    hash: TokenHash,
}

impl AccessToken {
    /// A new token from the operating system's random source.
    pub(crate) fn generate() -> AppResult<Self> {
        let mut bytes = [0u8; TOKEN_BYTES];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness for a token: {e}")))?;
        Ok(AccessToken { encoded: URL_SAFE_NO_PAD.encode(bytes), hash: TokenHash::of_bytes(&bytes) })
    }

    /// The secret itself, for the `Authorization: Bearer` header. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.encoded
    }

    /// What the database keeps of this token.
    pub fn hash(&self) -> &TokenHash {
        &self.hash
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl Serialize for AccessToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encoded)
    }
}

/// The SHA-256 of a token's random bytes: the key of the `tokens` table. Identifies a
/// login session without being usable as a credential.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    fn of_bytes(bytes: &[u8]) -> Self {
        TokenHash(Sha256::digest(bytes).into())
    }

    /// The hash of a token as a client presents it, or `None` when `presented` cannot be a
    /// token at all (wrong length, not canonical base64url, ...): such a credential is
    /// refused without a database lookup.
    pub fn of_presented(presented: &str) -> Option<Self> {
        if presented.len() != TOKEN_LEN {
            return None;
        }
        // The engine rejects non-canonical trailing bits, so each token has exactly one
        // spelling: a changed character never decodes to the same bytes.
        let bytes = URL_SAFE_NO_PAD.decode(presented).ok()?;
        (bytes.len() == TOKEN_BYTES).then(|| Self::of_bytes(&bytes))
    }

    /// The 32 bytes stored in `tokens.token_hash`.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hash read back from `tokens.token_hash`; `None` if it is not 32 bytes.
    pub(crate) fn from_stored(bytes: &[u8]) -> Option<Self> {
        Some(TokenHash(bytes.try_into().ok()?))
    }

    /// The session this token is, as event streams and tickets know it.
    pub fn session_key(&self) -> core_models::streams::SessionKey {
        core_models::streams::SessionKey(self.0)
    }
}

impl fmt::Debug for TokenHash {
    /// Only a prefix, enough to tell sessions apart in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}{:02x}{:02x}…)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_base64url_chars_of_fresh_randomness() {
        let a = AccessToken::generate().unwrap();
        let b = AccessToken::generate().unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), TOKEN_LEN);
        assert!(a.expose_secret().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(URL_SAFE_NO_PAD.decode(a.expose_secret()).unwrap().len(), 32);
    }

    #[test]
    fn the_presented_token_hashes_to_the_issued_hash() {
        let token = AccessToken::generate().unwrap();
        assert_eq!(TokenHash::of_presented(token.expose_secret()), Some(*token.hash()));
        let raw = URL_SAFE_NO_PAD.decode(token.expose_secret()).unwrap();
        assert_eq!(token.hash().as_bytes()[..], Sha256::digest(&raw)[..]);
    }

    #[test]
    fn every_changed_character_changes_or_breaks_the_token() {
        let token = AccessToken::generate().unwrap();
        let secret = token.expose_secret();
        for i in 0..secret.len() {
            for replacement in ['A', 'Q', 'g', 'w', '-', '_', '0'] {
                let mut tampered: Vec<char> = secret.chars().collect();
                if tampered[i] == replacement {
                    continue;
                }
                tampered[i] = replacement;
                let tampered: String = tampered.into_iter().collect();
                assert_ne!(TokenHash::of_presented(&tampered), Some(*token.hash()), "{tampered}");
            }
        }
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        let token = AccessToken::generate().unwrap();
        let secret = token.expose_secret();
        for bad in [
            "",
            "abc",
            &secret[1..],
            &format!("{secret}A"),
            &format!("{}+", &secret[..42]),
            &format!("{}a", "é".repeat(21)),
        ] {
            assert_eq!(TokenHash::of_presented(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let token = AccessToken::generate().unwrap();
        let printed = format!("{token:?} {:?}", token.hash());
        assert!(!printed.contains(token.expose_secret()));
        assert!(printed.starts_with("AccessToken(<redacted>) TokenHash("));
    }
}
