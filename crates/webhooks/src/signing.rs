//! Secrets and signatures of the Standard Webhooks specification: a secret is `whsec_`
//! and the base64 of 32 random bytes; a delivery carries `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
//! `v1,<base64 of HMAC-SHA256("{id}.{timestamp}.{body}")>` keyed with the secret's bytes,
//! one per secret that currently signs (two for 24 hours after a rotation).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use core_models::{AppError, AppResult};
use hmac::{KeyInit as _, Mac as _};

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes in a secret.
pub const SECRET_BYTES: usize = 32;

/// A new secret from the operating system's CSPRNG.
pub fn new_secret() -> AppResult<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The key of a secret: the base64-decoded part after `whsec_`.
fn key(secret: &str) -> AppResult<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).map_err(|_| AppError::Internal(anyhow::anyhow!("a stored webhook secret is not base64")))
}

/// One `v1,<signature>` of `body` sent as message `id` at `timestamp` with `secret`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let key = key(secret)?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("an HMAC key was refused")))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    id: &str,
    timestamp: i64,
    body: &str,
) -> AppResult<String> {
    let signatures =
        secrets.into_iter().map(|secret| sign(secret, id, timestamp, body)).collect::<AppResult<Vec<_>>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_shaped_as_the_spec_says() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert_eq!(key(&a).unwrap().len(), SECRET_BYTES);
    }

    #[test]
    fn the_specification_s_example_signature() {
        // The example of the Standard Webhooks specification (and its reference libraries).
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
