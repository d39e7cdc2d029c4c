//! Versions and conditional requests: optimistic concurrency for resources clients edit.
//!
//! A versioned resource carries `version`, 1 at creation and one more on every real
//! change, and every single-resource response names it as a strong `ETag: "<version>"`.
//! A write that must not overwrite someone else's change sends `If-Match: "<version>"`;
//! the service compares it inside the write (no race between check and change) and
//! answers 412 with the current version when it is stale. A read sends
//! `If-None-Match: "<version>"` and gets 304 while nothing changed.
//!
//! Rules (see docs/api.md, "Versions and conditional requests"):
//! - `*` matches any existing resource; an unknown id is still 404, never 412, so a
//!   condition tells nothing about resources on other boards.
//! - A weak tag `W/"3"` counts as version 3 in `If-Match` too. RFC 9110 compares
//!   `If-Match` strongly, but a version names the resource's state exactly, and proxies
//!   that compress responses weaken ETags on the way: refusing `W/"3"` would only break
//!   such clients, never protect a write.
//! - A tag that is not one of ours (`"abc"`, a broken header) matches no version.
//!
//! Representation tags: a resource whose body holds more than its version (counts and
//! aggregates that others move, or a part that differs by caller) is tagged
//! `"<version>-<digest>"` ([`representation_etag`]), the digest covering the whole JSON
//! body, so the tag changes whenever the body does and `If-None-Match`
//! ([`none_match_tag`]) never answers 304 for an out-of-date body. `If-Match` still judges
//! only the version: [`IfMatch::parse_representation`] takes such a tag as its version
//! (and the bare `"<version>"` too), so an edit with the tag just read succeeds although
//! an aggregate moved since. Resources without aggregates keep the plain `"<version>"`.
//!
//! ```
//! use core_models::version::{etag, IfMatch};
//!
//! assert_eq!(etag(3), "\"3\"");
//! assert!(IfMatch::parse(r#""3""#).check(3).is_ok());
//! assert!(IfMatch::parse(r#"W/"2", "3""#).check(3).is_ok());
//! assert!(IfMatch::parse("*").check(7).is_ok());
//! assert_eq!(IfMatch::parse(r#""2""#).check(3).unwrap_err().status_code(), 412);
//! ```

use crate::{AppError, AppResult};

/// The version of a new resource.
pub const FIRST_VERSION: i64 = 1;

/// A resource that carries a version (and so an `ETag`).
pub trait Versioned {
    /// The current version, 1 at creation.
    fn version(&self) -> i64;
}

/// The `ETag` of a resource at `version`: `"<version>"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `ETag` of a representation at `version` whose JSON body is `body`:
/// `"<version>-<16 hex digits>"`, the digits a 64-bit FNV-1a hash of the body. Stable
/// across processes and restarts (no random seed), so every gateway tags alike.
pub fn representation_etag(version: i64, body: &[u8]) -> String {
    format!("\"{version}-{:016x}\"", fnv1a64(body))
}

/// 64-bit FNV-1a: small, seedless and enough to tell two bodies of one resource apart.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The condition of a write's `If-Match` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`, or `*`: any version of an existing resource.
    #[default]
    Any,
    /// One of these versions; empty when the header named none of ours (matches nothing).
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Exactly `version` (what `If-Match: "<version>"` asks).
    pub fn version(version: i64) -> Self {
        IfMatch::Versions(vec![version])
    }

    /// The condition of an `If-Match` header value (several headers joined by commas).
    pub fn parse(header: &str) -> Self {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        IfMatch::Versions(entity_tags(header).into_iter().filter_map(version_of).collect())
    }

    /// Like [`IfMatch::parse`], for resources tagged by [`representation_etag`]: a
    /// `"<version>-<digest>"` tag counts as its version (whatever the digest: the
    /// aggregates it covers are not the client's to edit), and so does a bare
    /// `"<version>"`.
    pub fn parse_representation(header: &str) -> Self {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        IfMatch::Versions(
            entity_tags(header)
                .into_iter()
                .filter_map(|tag| version_of(tag.map(|t| strip_digest(t).unwrap_or(t))))
                .collect(),
        )
    }

    /// Whether a resource at `current` passes.
    pub fn matches(&self, current: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(versions) => versions.contains(&current),
        }
    }

    /// `Ok` when a resource at `current` passes, else the 412 naming `current`. Call it
    /// inside the write that changes the resource, after finding it (404 comes first).
    pub fn check(&self, current: i64) -> AppResult<()> {
        if self.matches(current) {
            Ok(())
        } else {
            Err(AppError::VersionMismatch { current_version: current })
        }
    }
}

/// Whether an `If-None-Match` header value names `current` (weak comparison, as RFC 9110
/// asks for `If-None-Match`): then a GET answers 304.
pub fn none_match(header: &str, current: i64) -> bool {
    header.trim() == "*" || entity_tags(header).into_iter().filter_map(version_of).any(|v| v == current)
}

/// Whether an `If-None-Match` header value names the tag `current` (an `ETag` as
/// [`representation_etag`] makes it, quotes included), comparing weakly; `*` matches.
pub fn none_match_tag(header: &str, current: &str) -> bool {
    let current = current.trim_matches('"');
    header.trim() == "*" || entity_tags(header).into_iter().flatten().any(|tag| tag == current)
}

/// The version part of a `<version>-<16 hex digits>` tag.
fn strip_digest(tag: &str) -> Option<&str> {
    let (version, digest) = tag.split_once('-')?;
    (digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(version)
}

/// The opaque parts of a comma-separated list of entity tags (`"3"`, `W/"3"`); `None` for
/// an element that is not an entity tag (the rest of the header is then ignored).
fn entity_tags(header: &str) -> Vec<Option<&str>> {
    let mut tags = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return tags;
        }
        let unweakened = rest.strip_prefix("W/").unwrap_or(rest);
        let Some(quoted) = unweakened.strip_prefix('"') else {
            tags.push(None);
            return tags;
        };
        let Some(end) = quoted.find('"') else {
            tags.push(None);
            return tags;
        };
        tags.push(Some(&quoted[..end]));
        rest = &quoted[end + 1..];
    }
}

/// Our tags are the decimal version: `"3"`.
fn version_of(tag: Option<&str>) -> Option<i64> {
    let tag = tag?;
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tag.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_parses_lists_weak_tags_and_star() {
        assert_eq!(IfMatch::parse(r#""3""#), IfMatch::version(3));
        assert_eq!(IfMatch::parse(r#"W/"3""#), IfMatch::version(3));
        assert_eq!(IfMatch::parse(r#" "1" , W/"2","3" "#), IfMatch::Versions(vec![1, 2, 3]));
        assert_eq!(IfMatch::parse(" * "), IfMatch::Any);
        for foreign in ["", "3", r#""abc""#, r#""-1""#, r#""3"#, r#""""#, "garbage"] {
            assert_eq!(IfMatch::parse(foreign), IfMatch::Versions(vec![]), "{foreign:?}");
            assert!(!IfMatch::parse(foreign).matches(1), "{foreign:?}");
        }
        assert_eq!(IfMatch::parse(r#""1", junk, "2""#), IfMatch::version(1), "parsing stops at junk");
    }

    #[test]
    fn a_stale_if_match_is_a_412_naming_the_current_version() {
        let err = IfMatch::version(2).check(4).unwrap_err();
        assert_eq!(err.status_code(), 412);
        assert!(matches!(err, AppError::VersionMismatch { current_version: 4 }));
        assert!(IfMatch::Any.check(4).is_ok());
    }

    #[test]
    fn representation_tags_change_with_the_body_and_keep_the_version() {
        let tag = representation_etag(3, br#"{"rating":1}"#);
        assert_eq!(tag, representation_etag(3, br#"{"rating":1}"#), "stable");
        assert_ne!(tag, representation_etag(3, br#"{"rating":2}"#), "moves with the body");
        assert!(tag.starts_with("\"3-") && tag.len() == "\"3-\"".len() + 16, "{tag}");
        assert_eq!(IfMatch::parse_representation(&tag), IfMatch::version(3));
        assert_eq!(IfMatch::parse_representation(&format!("W/{tag}")), IfMatch::version(3));
        assert_eq!(IfMatch::parse_representation(r#""3""#), IfMatch::version(3), "the bare version");
        assert_eq!(IfMatch::parse_representation(" * "), IfMatch::Any);
        for foreign in [r#""3-abc""#, r#""3-""#, r#""-0123456789abcdef""#, r#""x-0123456789abcdef""#, "3", r#""abc""#] {
            assert_eq!(IfMatch::parse_representation(foreign), IfMatch::Versions(vec![]), "{foreign:?}");
        }
        // The plain parser of other resources is unchanged: it refuses digests.
        assert_eq!(IfMatch::parse(&tag), IfMatch::Versions(vec![]));
        assert!(none_match_tag(&tag, &tag));
        assert!(none_match_tag(&format!("W/{tag}, \"1\""), &tag));
        assert!(none_match_tag("*", &tag));
        assert!(!none_match_tag(r#""3""#, &tag), "the bare version does not vouch for the aggregates");
        assert!(!none_match_tag(&representation_etag(3, b"{}"), &tag));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match(r#""3""#, 3));
        assert!(none_match(r#"W/"3""#, 3));
        assert!(none_match(r#""1", "3""#, 3));
        assert!(none_match("*", 3));
        assert!(!none_match(r#""2""#, 3));
        assert!(!none_match("", 3));
    }
}
