//! Types every Corkboard domain shares, free of HTTP and database concerns by default.
//!
//! - [`AppError`] and [`FieldError`]: the one error type services return; the `http`
//!   feature turns it into an RFC 9457 [`Problem`] response.
//! - [`pagination`]: `limit`/`cursor` parsing, opaque keyset cursors and [`Page`].
//! - [`sort`]: `sort=-created_at,title` parsing against a domain's own field enum.
//! - [`time`]: RFC 3339 UTC timestamps with millisecond precision, stored as integers.
//! - [`text`]: the trimming and length rules of the API contract.
//! - [`caller`]: who is calling ([`Caller`]), taken by the signed-in products' services.
//! - [`board`]: whose notes and tasks a call sees ([`Board`]: anonymous or a user's own).
//! - [`version`]: resource versions, `ETag`s and `If-Match` / `If-None-Match` conditions.
//! - [`rank`]: enumerations ordered by rank, declared once with [`rank_enum!`].
//! - [`id`]: typed resource ids ([`id::Id`]) and stored-id conversions.
//! - [`params`]: query-value parsers (comma lists, booleans, search text).
//! - [`constraint`]: constraint violations mapped to 409/422, extensible per crate.
//!
//! ```
//! use core_models::{text, Violations};
//!
//! let mut v = Violations::new();
//! let title = v.check(text::required("title", "  Groceries ", text::TITLE_MAX));
//! let body = v.check(text::optional("content", Some("x".repeat(30_000)), text::BODY_MAX));
//! let err = v.finish().unwrap_err();
//! assert_eq!(title.as_deref(), Some("Groceries"));
//! assert!(body.is_none());
//! assert_eq!(err.field_errors()[0].field, "content");
//! ```

pub mod board;
pub mod caller;
pub mod constraint;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod id;
pub mod idempotency;

/// Base path of every API route; `Location` headers are built from it.
pub const API_BASE: &str = "/api/v1";
pub mod openapi;
pub mod pagination;
pub mod params;
pub mod patch;
pub mod problem;
pub mod rank;
pub mod rules;
pub mod sort;
#[cfg(feature = "http")]
pub mod sse;
#[cfg(feature = "http")]
pub mod streams;
pub mod text;
pub mod time;
pub mod version;
pub mod whole;

pub use board::Board;
pub use caller::{Caller, MaybeCaller, UserRef};
pub use error::{AppError, AppResult, FieldError, Violations};
pub use pagination::{CursorValue, Page, PageRequest};
pub use problem::Problem;
pub use rules::BodyRules;
pub use sort::{Sort, SortField, SortKey};
