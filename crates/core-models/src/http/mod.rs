//! actix-web glue (feature `http`): how an [`AppError`](crate::AppError) becomes a
//! problem+json response, how extractor failures join that shape, and how blocking service
//! calls leave the async workers. One module per concern, all re-exported here:
//!
//! - `problem`: error responses ([`problem_response`], [`problem_for_bare_errors`]).
//! - `blocking`: [`blocking`] and [`blocking_search`].
//! - `caller`: [`Authenticated`] and the caller extractors.
//! - `client`: who a request comes from ([`TrustedProxies`]).
//! - `conditional`: `If-Match` extractors and [`Tagged`] responses (`ETag`, 304).
//! - `body`: the [`Json`] extractor and [`read_body`] (limit, content type, timeout).
//! - `fields`: [`parse_json`], naming every bad field of a body at once.
//! - `config`: configurations for actix's own extractors.
//! - [`request_id`]: the request id, in responses and log lines.

mod blocking;
mod body;
mod caller;
mod client;
mod conditional;
mod config;
mod fields;
mod problem;
pub mod request_id;

pub use blocking::{blocking, blocking_search};
pub use body::{read_body, BodyTimeout, Json, BODY_LIMIT, DEFAULT_BODY_TIMEOUT};
pub use caller::Authenticated;
pub use client::{TrustedProxies, UNKNOWN_CLIENT};
pub use conditional::{RepresentationIfMatch, Tagged};
pub use config::{json_config, path_config, payload_config, query_config};
pub use fields::{every_bad_field, parse_json, MAX_FIELD_ERRORS};
pub use problem::{created, problem_for_bare_errors, problem_response, ProblemType};
