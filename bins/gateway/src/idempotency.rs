//! `Idempotency-Key` on `POST` (API section 1), for every route of every crate, in one place.
//!
//! A client that cannot tell a lost response from a lost request sends its `POST` again
//! with the same key. The first request claims the key (`storage::idempotency`), runs,
//! and its response is stored; a repeat from the same caller within 24 hours gets that
//! response again with `Idempotent-Replayed: true` and changes nothing. The key covers the
//! method, the path (with the query) and the JSON body compared as JSON: the same key for
//! another request is 422, a repeat while the first still runs 409. Responses that are
//! not final (409, 429, 503 and other 5xx) are not kept when nothing was written: the
//! client retries with the same key and the request runs again.
//!
//! The handler's write marks the key in its own transaction (the claim travels with the
//! request into `core_models::http::blocking`), so a request that died before or after its
//! commit is never applied twice (see `storage::idempotency`).
//!
//! Operations whose response carries a secret kept only hashed (login, stream tickets,
//! invite codes), or shown only once (webhook secrets), never store it: they refuse a key with 422. Password fields are left out
//! of the fingerprint, so nothing derived from a password is stored.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use core_models::http::{blocking, read_body, Authenticated};
use core_models::idempotency::{self as claims, Claim};
use core_models::{AppError, API_BASE};
use sha2::{Digest, Sha256};
use storage::idempotency::{self as store, Claimed, Stored};
use storage::Database;

/// The request header carrying the key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The response header marking a replay.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key.
pub const MAX_KEY: usize = 255;

/// Body fields never part of a fingerprint (what is stored must not be derived from them).
const SECRET_FIELDS: [&str; 3] = ["password", "current_password", "new_password"];

/// The `POST` operations an anonymous caller may use (their document lists no security or
/// an empty requirement): only there is an anonymous key kept. Elsewhere an anonymous
/// request goes on to its 401 untouched, whatever its key.
#[derive(Debug)]
pub struct LoginFree(Vec<ResourceDef>);

impl LoginFree {
    /// The login-free `POST` operations of `api`.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let free = api
            .paths
            .paths
            .iter()
            .filter(|(_, item)| {
                item.post.as_ref().is_some_and(|post| match &post.security {
                    None => true,
                    Some(requirements) => requirements.iter().any(|r| {
                        serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(serde_json::Map::is_empty))
                    }),
                })
            })
            .map(|(path, _)| ResourceDef::new(path.as_str()))
            .collect();
        LoginFree(free)
    }

    fn allows(&self, path: &str) -> bool {
        self.0.iter().any(|def| def.is_match(path))
    }
}

/// Middleware (`middleware::from_fn`), inside authentication (it scopes keys by caller).
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let raw = req.headers().get(IDEMPOTENCY_KEY).cloned();
    let caller = match req.extensions().get::<Authenticated>() {
        Some(Authenticated(Some(caller))) => Some(caller.id),
        _ => None,
    };
    let login_free = || req.app_data::<web::Data<LoginFree>>().is_some_and(|free| free.allows(req.path()));
    let applies = req.method() == Method::POST && (caller.is_some() || login_free());
    let (Some(raw), true) = (raw, applies) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let key = match parse_key(&raw).and_then(|key| refuse_secret_bearing(req.path()).map(|()| key)) {
        Ok(key) => key,
        Err(e) => return Ok(req.error_response(e)),
    };
    let mut payload = req.take_payload();
    let body = match read_body(req.request(), &mut payload).await {
        Ok(body) => body,
        Err(e) => return Ok(req.error_response(e)),
    };
    let fingerprint = fingerprint(req.method(), &req.uri().to_string(), &body);
    req.set_payload(Payload::from(body));
    let scope = caller.map(|id| id.to_string()).unwrap_or_default();
    let Some(db) = req.app_data::<web::Data<Database>>().cloned() else {
        return Ok(req.error_response(AppError::Internal(anyhow::anyhow!("no database for Idempotency-Key"))));
    };
    let claiming = db.clone();
    let now = core_models::time::now().timestamp_millis();
    let claimed = blocking(move || store::claim(&claiming, &scope, &key, &fingerprint, now)).await;
    let claim = match claimed {
        Ok(Claimed::Fresh(claim)) => claim,
        Ok(Claimed::Replay(stored)) => return Ok(req.into_response(replay(stored))),
        Ok(Claimed::Busy) => {
            return Ok(req.error_response(AppError::Conflict(
                "a request with this Idempotency-Key is still being processed; retry shortly with the same key".into(),
            )))
        }
        Ok(Claimed::Mismatch) => {
            return Ok(req.error_response(AppError::invalid(
                "Idempotency-Key",
                "was already used for another request (method, path or body); use a new key for a new request",
            )))
        }
        Ok(Claimed::Lost) => return Ok(req.error_response(AppError::Conflict(
            "the request with this Idempotency-Key was written, but its response was lost when the server stopped; \
             it is not run again: read the resource to see the result"
                .into(),
        ))),
        Err(e) => return Ok(req.error_response(e)),
    };
    let response = claims::scope(claim.clone(), next.call(req)).await;
    let response = match response {
        Ok(response) => response.map_into_boxed_body(),
        Err(e) => {
            settle(db, claim, empty(), false).await;
            return Err(e);
        }
    };
    let (request, response) = response.into_parts();
    let (response, body) = response.into_parts();
    let bytes = body::to_bytes(body).await.unwrap_or_default();
    let status = response.status();
    let stored = std::str::from_utf8(&bytes).ok().map(|text| Stored {
        status: status.as_u16(),
        content_type: header_text(response.headers().get(header::CONTENT_TYPE)),
        location: header_text(response.headers().get(header::LOCATION)),
        etag: header_text(response.headers().get(header::ETAG)),
        body: text.to_owned(),
    });
    let keep = !matches!(status.as_u16(), 409 | 429) && !status.is_server_error();
    // A body that is not text is never kept (none of the API's are); the key is given up
    // unless something was written.
    settle(db, claim, stored.clone().unwrap_or_else(empty), keep && stored.is_some()).await;
    Ok(ServiceResponse::new(request, response.set_body(BoxBody::new(bytes))))
}

/// Stores the response of `claim` or gives the key up. A failure here leaves the key
/// claimed: a repeat is told it is busy, then (if something was written) that the response
/// is lost; the response itself still reaches the client.
async fn settle(db: web::Data<Database>, claim: Claim, stored: Stored, keep: bool) {
    if let Err(e) = blocking(move || store::finish(&db, claim, stored, keep)).await {
        log::warn!("the response to an Idempotency-Key request could not be stored: {e}");
    }
}

fn empty() -> Stored {
    Stored { status: 500, content_type: None, location: None, etag: None, body: String::new() }
}

fn header_text(value: Option<&HeaderValue>) -> Option<String> {
    value.and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The stored response again, marked as a replay.
fn replay(stored: Stored) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header((HeaderName::from_static(REPLAYED), HeaderValue::from_static("true")));
    for (name, value) in
        [(header::CONTENT_TYPE, stored.content_type), (header::LOCATION, stored.location), (header::ETAG, stored.etag)]
    {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.insert_header((name, value));
        }
    }
    response.body(stored.body)
}

/// The key, when it is 1..=255 visible ASCII characters.
fn parse_key(raw: &HeaderValue) -> Result<String, AppError> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters (no spaces), e.g. a UUID",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// 422 for the operations whose response carries a secret kept only hashed: storing the
/// response would keep the secret.
fn refuse_secret_bearing(path: &str) -> Result<(), AppError> {
    let path = path.strip_prefix(API_BASE).unwrap_or(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let secret = matches!(
        segments.as_slice(),
        ["auth", "login"]
            | ["auth", "stream-tickets"]
            | ["teams", _, "invites"]
            | ["teams", _, "webhooks"]
            | ["webhooks", _, "secret"]
    );
    if secret {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "is not accepted here: the response carries a secret that is shown only once, so it is not kept for \
             replays; send the request without the header",
        ));
    }
    Ok(())
}

/// SHA-256 (hex) of the method, the path with its query, and the body: as canonical JSON
/// (keys sorted, no spaces, password fields left out) when it is JSON, else as sent.
fn fingerprint(method: &Method, target: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(target.as_bytes());
    hash.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            if let Some(object) = value.as_object_mut() {
                object.retain(|name, _| !SECRET_FIELDS.contains(&name.as_str()));
            }
            hash.update(b"json:");
            hash.update(canonical(&value).as_bytes());
        }
        Err(_) => {
            hash.update(b"raw:");
            hash.update(body);
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text with every object's keys sorted, so equal JSON gives equal text.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> =
                entries.into_iter().map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Documents the header on every `POST` that takes it: the `Idempotency-Key` parameter,
/// the `Idempotent-Replayed` header of a replayed answer, and the 409 of a repeat that
/// comes while the first request runs.
pub fn document(doc: &mut serde_json::Value) {
    use serde_json::json;
    let Some(paths) = doc.get_mut("paths").and_then(serde_json::Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        if refuse_secret_bearing(path).is_err() {
            continue;
        }
        let Some(post) = item.get_mut("post").and_then(serde_json::Value::as_object_mut) else { continue };
        let parameters = post.entry("parameters").or_insert_with(|| json!([]));
        if let Some(parameters) = parameters.as_array_mut() {
            parameters.push(json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Makes a retry safe: a repeat with the same key from the same caller within 24 hours \
                    gets the first response again (with `Idempotent-Replayed: true`) and changes nothing. The same key \
                    with another request is 422; a repeat while the first still runs is 409. 409, 429 and 5xx answers \
                    are not kept: retry them with the same key.",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": "^[!-~]+$"}
            }));
        }
        let Some(responses) = post.get_mut("responses").and_then(serde_json::Value::as_object_mut) else { continue };
        for (status, response) in responses.iter_mut() {
            if !status.starts_with('2') {
                continue;
            }
            if let Some(response) = response.as_object_mut() {
                let headers = response.entry("headers").or_insert_with(|| json!({}));
                if let Some(headers) = headers.as_object_mut() {
                    headers.insert(
                        "Idempotent-Replayed".into(),
                        json!({
                            "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`",
                            "schema": {"type": "string", "enum": ["true"]}
                        }),
                    );
                }
            }
        }
        let problem = |description: &str| {
            json!({
                "description": description,
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            })
        };
        responses.entry("409").or_insert_with(|| {
            problem("A request with the same `Idempotency-Key` is still being processed (retry with the same key)")
        });
        responses
            .entry("422")
            .or_insert_with(|| problem("A malformed `Idempotency-Key`, or one already used for another request"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_json_is_one_fingerprint_and_anything_else_another() {
        let post = Method::POST;
        let a = fingerprint(&post, "/api/v1/notes", br#"{"title":"a","tags":["x","y"],"n":{"b":1,"a":2}}"#);
        let same = fingerprint(
            &post,
            "/api/v1/notes",
            b"{ \"n\": {\"a\":2, \"b\":1}, \"tags\":[\"x\",\"y\"], \"title\":\"a\" }",
        );
        assert_eq!(a, same);
        assert_ne!(a, fingerprint(&post, "/api/v1/notes", br#"{"title":"a","tags":["y","x"],"n":{"b":1,"a":2}}"#));
        assert_ne!(a, fingerprint(&post, "/api/v1/tasks", br#"{"title":"a","tags":["x","y"],"n":{"b":1,"a":2}}"#));
        assert_ne!(
            a,
            fingerprint(&Method::PUT, "/api/v1/notes", br#"{"title":"a","tags":["x","y"],"n":{"b":1,"a":2}}"#)
        );
        assert_ne!(fingerprint(&post, "/x", b"not json"), fingerprint(&post, "/x", b"not json!"));
    }

    #[test]
    fn passwords_are_not_part_of_the_fingerprint() {
        let post = Method::POST;
        let one = fingerprint(&post, "/api/v1/auth/register", br#"{"email":"a@b.c","password":"secret-one"}"#);
        let two = fingerprint(&post, "/api/v1/auth/register", br#"{"email":"a@b.c","password":"secret-two"}"#);
        assert_eq!(one, two);
        assert_ne!(one, fingerprint(&post, "/api/v1/auth/register", br#"{"email":"x@b.c","password":"secret-one"}"#));
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(parse_key(&HeaderValue::from_static("0b7c-4f1e")).is_ok());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(255)).unwrap()).is_ok());
        for bad in [String::new(), "k".repeat(256), "a b".into(), "tab\there".into()] {
            let err = parse_key(&HeaderValue::from_str(&bad).unwrap()).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "Idempotency-Key", "{bad:?}");
        }
    }

    #[test]
    fn the_document_names_the_header_where_it_is_taken() {
        let mut doc = serde_json::json!({"paths": {
            "/api/v1/notes": {"post": {"responses": {"201": {"description": "created"}}}, "get": {"responses": {}}},
            "/api/v1/auth/login": {"post": {"responses": {"200": {"description": "token"}}}}
        }});
        document(&mut doc);
        let notes = &doc["paths"]["/api/v1/notes"];
        assert_eq!(notes["post"]["parameters"][0]["name"], "Idempotency-Key");
        assert!(notes["post"]["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
        assert!(notes["post"]["responses"]["409"].is_object());
        assert!(notes["post"]["responses"]["422"].is_object());
        assert!(notes["get"].get("parameters").is_none());
        assert!(doc["paths"]["/api/v1/auth/login"]["post"].get("parameters").is_none());
    }

    #[test]
    fn secret_bearing_operations_refuse_keys() {
        for path in [
            "/api/v1/auth/login",
            "/api/v1/auth/stream-tickets",
            "/api/v1/teams/abc/invites",
            "/api/v1/teams/abc/webhooks",
            "/api/v1/webhooks/abc/secret",
        ] {
            assert!(refuse_secret_bearing(path).is_err(), "{path}");
        }
        for path in ["/api/v1/notes", "/api/v1/auth/register", "/api/v1/teams", "/api/v1/teams/abc/members"] {
            assert!(refuse_secret_bearing(path).is_ok(), "{path}");
        }
    }
}
