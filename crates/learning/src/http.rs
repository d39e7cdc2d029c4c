//! The learning routes: parse the request, call the [`LearningService`] on the blocking
//! pool, shape the response. No rules live here.

use std::sync::Arc;

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use core_models::http::{blocking, blocking_search, created, Json, RepresentationIfMatch, Tagged};
use core_models::id::Id;
use core_models::openapi::{BadCredentials, JsonBodyErrors, LoginRequired, StaleVersion};
use core_models::pagination::IdPagingParams;
use core_models::{AppResult, Caller, MaybeCaller, Page, Problem, API_BASE};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::list::{ListChallenges, ListChallengesParams, ListPaths, ListPathsParams};
use crate::model::{
    Challenge, ChallengeChanges, Comment, CommentBody, Completion, CompletionBody, Enrollment, Feedback, FeedbackBody,
    LearningPath, MyRating, NewChallenge, NewPath, OwnRating, PathChallenges, PathChanges, PathDetail, PathProgress,
    PathProgressSummary, Put, RatingBody,
};
use crate::LearningService;

type Service = web::Data<dyn LearningService>;

/// Mounts the routes (relative to the API base) with `service` behind them.
pub fn configure(service: Arc<dyn LearningService>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .service(create_challenge)
            .service(list_challenges)
            .service(get_challenge)
            .service(update_challenge)
            .service(delete_challenge)
            .service(create_path)
            .service(list_paths)
            .service(get_path)
            .service(update_path)
            .service(delete_path)
            .service(set_path_challenges)
            .service(enroll_in_path)
            .service(leave_path)
            .service(complete_challenge)
            .service(undo_completion)
            .service(list_completions)
            .service(rate_challenge)
            .service(get_own_rating)
            .service(withdraw_rating)
            .service(get_own_completion)
            .service(create_challenge_comment)
            .service(list_challenge_comments)
            .service(get_challenge_comment)
            .service(update_challenge_comment)
            .service(delete_challenge_comment)
            .service(give_feedback)
            .service(list_feedback)
            .service(my_progress)
            .service(path_progress);
    }
}

/// Calls the service on the blocking pool.
async fn call<T: Send + 'static>(
    service: Service,
    f: impl FnOnce(&dyn LearningService) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let service = service.into_inner();
    blocking(move || f(service.as_ref())).await
}

/// [`call`] for a browse, which when `searching` first waits for its turn without holding
/// a blocking thread (`blocking_search`, as the notes and tasks lists do).
async fn browse<T: Send + 'static>(
    service: Service,
    searching: bool,
    f: impl FnOnce(&dyn LearningService) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    if !searching {
        return call(service, f).await;
    }
    let service = service.into_inner();
    blocking_search(move || f(service.as_ref())).await
}

/// 201 with `Location` when a `PUT` created the resource, else 200.
fn put_response<T: Serialize>(put: Put<T>, location: String) -> HttpResponse {
    if put.created {
        created(location, &put.value)
    } else {
        HttpResponse::Ok().json(&put.value)
    }
}

// ---- challenges ----

/// Create a challenge; the caller is its author.
#[utoipa::path(tag = "learning", security(("bearer" = [])), request_body = NewChallenge,
    responses(
        (status = 201, description = "Created", body = Challenge,
            headers(("Location" = String, description = "URL of the challenge"), ("ETag" = String, description = "`\"1-<digest>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 422, description = "Invalid fields (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/learning/challenges")]
async fn create_challenge(service: Service, caller: Caller, body: Json<NewChallenge>) -> AppResult<Tagged<Challenge>> {
    let challenge = call(service, move |s| s.create_challenge(&caller, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/learning/challenges/{}", challenge.id), challenge)
        .by_representation()
        .varying_by_caller())
}

/// Browse challenges (anyone). Filters combine; `completed` needs a login.
#[utoipa::path(tag = "learning", security((), ("bearer" = [])), params(ListChallengesParams),
    responses(
        (status = 200, description = "One page of challenges", body = Page<Challenge>),
        (status = 401, description = "`completed` without a login, or an `Authorization` header that is not a valid token",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/challenges")]
async fn list_challenges(
    service: Service,
    caller: MaybeCaller,
    params: web::Query<ListChallengesParams>,
) -> AppResult<HttpResponse> {
    let query = ListChallenges::parse(params.into_inner(), caller.id())?;
    let page = browse(service, query.filter.search.is_some(), move |s| s.challenges(&query)).await?;
    // Each item's `me` is the caller's: a cache must not hand one caller's page to another.
    Ok(HttpResponse::Ok().append_header((actix_web::http::header::VARY, "Authorization")).json(page))
}

/// One challenge (anyone), with its `ETag`.
#[utoipa::path(tag = "learning", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before: 304 while the body it tagged is current")),
    responses(
        (status = 200, description = "The challenge", body = Challenge, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag` (no body)"),
        BadCredentials,
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/challenges/{id}")]
async fn get_challenge(
    service: Service,
    caller: MaybeCaller,
    id: web::Path<Id<Challenge>>,
) -> AppResult<Tagged<Challenge>> {
    let (id, viewer) = (id.into_inner().uuid(), caller.id());
    Ok(Tagged::ok(call(service, move |s| s.challenge(id, viewer)).await?).by_representation().varying_by_caller())
}

/// Change a challenge (its author; others get 403). `If-Match` makes it conditional.
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    request_body = ChallengeChanges,
    responses(
        (status = 200, description = "The challenge after the change", body = Challenge, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/learning/challenges/{id}")]
async fn update_challenge(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
    body: Json<ChallengeChanges>,
) -> AppResult<Tagged<Challenge>> {
    let id = id.into_inner().uuid();
    let challenge = call(service, move |s| s.update_challenge(&caller, id, body.into_inner(), expected)).await?;
    Ok(Tagged::ok(challenge).by_representation().varying_by_caller())
}

/// Delete a challenge (its author): it leaves every path; its completions, ratings,
/// comments and feedback go with it.
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/learning/challenges/{id}")]
async fn delete_challenge(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_challenge(&caller, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- paths ----

/// Create a learning path (the caller is its author), optionally with its challenges.
#[utoipa::path(tag = "learning", security(("bearer" = [])), request_body = NewPath,
    responses(
        (status = 201, description = "Created", body = PathDetail,
            headers(("Location" = String, description = "URL of the path"), ("ETag" = String, description = "`\"1-<digest>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 422, description = "Invalid fields, unknown or repeated challenge ids (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/learning/paths")]
async fn create_path(service: Service, caller: Caller, body: Json<NewPath>) -> AppResult<Tagged<PathDetail>> {
    let path = call(service, move |s| s.create_path(&caller, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/learning/paths/{}", path.path.id), path)
        .by_representation()
        .varying_by_caller())
}

/// Browse learning paths (anyone).
#[utoipa::path(tag = "learning", security((), ("bearer" = [])), params(ListPathsParams),
    responses(
        (status = 200, description = "One page of paths", body = Page<LearningPath>),
        BadCredentials,
        (status = 422, description = "A bad parameter (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/paths")]
async fn list_paths(service: Service, params: web::Query<ListPathsParams>) -> AppResult<web::Json<Page<LearningPath>>> {
    let query = ListPaths::parse(params.into_inner())?;
    Ok(web::Json(browse(service, query.search.is_some(), move |s| s.paths(&query)).await?))
}

/// One path with its challenges in order (anyone), with its `ETag`.
#[utoipa::path(tag = "learning", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Path id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before: 304 while the body it tagged is current")),
    responses(
        (status = 200, description = "The path", body = PathDetail, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag` (no body)"),
        BadCredentials,
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/paths/{id}")]
async fn get_path(
    service: Service,
    caller: MaybeCaller,
    id: web::Path<Id<LearningPath>>,
) -> AppResult<Tagged<PathDetail>> {
    let (id, viewer) = (id.into_inner().uuid(), caller.id());
    Ok(Tagged::ok(call(service, move |s| s.path(id, viewer)).await?).by_representation().varying_by_caller())
}

/// Change a path's title, description or topic (its author).
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Path id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    request_body = PathChanges,
    responses(
        (status = 200, description = "The path after the change", body = PathDetail, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/learning/paths/{id}")]
async fn update_path(
    service: Service,
    caller: Caller,
    id: web::Path<Id<LearningPath>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
    body: Json<PathChanges>,
) -> AppResult<Tagged<PathDetail>> {
    let id = id.into_inner().uuid();
    let path = call(service, move |s| s.update_path(&caller, id, body.into_inner(), expected)).await?;
    Ok(Tagged::ok(path).by_representation().varying_by_caller())
}

/// Delete a path (its author); enrolments go with it.
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Path id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/learning/paths/{id}")]
async fn delete_path(
    service: Service,
    caller: Caller,
    id: web::Path<Id<LearningPath>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_path(&caller, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set the path's ordered challenge list (its author): every id must name a challenge,
/// none twice.
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Path id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    request_body = PathChallenges,
    responses(
        (status = 200, description = "The path with its new list", body = PathDetail, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Unknown, malformed or repeated challenge ids (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/learning/paths/{id}/challenges")]
async fn set_path_challenges(
    service: Service,
    caller: Caller,
    id: web::Path<Id<LearningPath>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
    body: Json<PathChallenges>,
) -> AppResult<Tagged<PathDetail>> {
    let id = id.into_inner().uuid();
    let path = call(service, move |s| s.set_path_challenges(&caller, id, body.into_inner(), expected)).await?;
    Ok(Tagged::ok(path).by_representation().varying_by_caller())
}

/// Enrol in a path (idempotent: 201 the first time, 200 after).
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Path id")),
    responses(
        (status = 200, description = "Already enrolled", body = Enrollment),
        (status = 201, description = "Enrolled", body = Enrollment, headers(("Location" = String, description = "URL of the enrolment"))),
        LoginRequired,
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/learning/paths/{id}/enrollment")]
async fn enroll_in_path(service: Service, caller: Caller, id: web::Path<Id<LearningPath>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let put = call(service, move |s| s.enroll(&caller, id)).await?;
    Ok(put_response(put, format!("{API_BASE}/learning/paths/{id}/enrollment")))
}

/// Leave a path (idempotent: 204 also when not enrolled).
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Path id")),
    responses(
        (status = 204, description = "Not enrolled (any more)"),
        LoginRequired,
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/learning/paths/{id}/enrollment")]
async fn leave_path(service: Service, caller: Caller, id: web::Path<Id<LearningPath>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.leave_path(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- completions, ratings, feedback ----

/// Mark a challenge completed (idempotent: 201 the first time, 200 after; a given
/// `solution` replaces the earlier one).
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    request_body = CompletionBody,
    responses(
        (status = 200, description = "Already completed (solution updated if given)", body = Completion),
        (status = 201, description = "Completed", body = Completion, headers(("Location" = String, description = "URL of the completion"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Solution too long", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/learning/challenges/{id}/completion")]
async fn complete_challenge(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
    body: Json<CompletionBody>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let put = call(service, move |s| s.complete(&caller, id, body.into_inner())).await?;
    Ok(put_response(put, format!("{API_BASE}/learning/challenges/{id}/completion")))
}

/// Undo the caller's completion (idempotent); the caller's rating of it goes too.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    responses(
        (status = 204, description = "Not completed (any more)"),
        LoginRequired,
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/learning/challenges/{id}/completion")]
async fn undo_completion(service: Service, caller: Caller, id: web::Path<Id<Challenge>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.undo_completion(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Other users' completions of a challenge with their solutions, oldest first, for peer
/// review.
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of completions", body = Page<Completion>),
        LoginRequired,
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/challenges/{id}/completions")]
async fn list_completions(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<Completion>>> {
    let id = id.into_inner().uuid();
    let paging = params.into_inner().parse("challenge-completions", &(id, caller.id))?;
    Ok(web::Json(call(service, move |s| s.completions(&caller, id, &paging)).await?))
}

/// Rate a challenge the caller completed: 1 to 5 stars, one rating per user, replaced by
/// the next (201 the first time, 200 after).
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    request_body = RatingBody,
    responses(
        (status = 200, description = "Rating replaced", body = MyRating),
        (status = 201, description = "Rated", body = MyRating, headers(("Location" = String, description = "URL of the rating"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "The caller has not completed the challenge", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Stars outside 1 to 5", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/learning/challenges/{id}/rating")]
async fn rate_challenge(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
    body: Json<RatingBody>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let put = call(service, move |s| s.rate(&caller, id, body.into_inner())).await?;
    Ok(put_response(put, format!("{API_BASE}/learning/challenges/{id}/rating")))
}

/// The caller's own rating of a challenge, to show its star widget after a reload.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    responses(
        (status = 200, description = "The caller's rating", body = OwnRating),
        LoginRequired,
        (status = 404, description = "No such challenge, or the caller has not rated it", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/challenges/{id}/rating")]
async fn get_own_rating(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
) -> AppResult<web::Json<OwnRating>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.own_rating(&caller, id)).await?))
}

/// Withdraw the caller's rating (the completion stays); the challenge's `rating` no
/// longer counts it.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    responses(
        (status = 204, description = "Withdrawn"),
        LoginRequired,
        (status = 404, description = "No such challenge, or the caller has not rated it", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/learning/challenges/{id}/rating")]
async fn withdraw_rating(service: Service, caller: Caller, id: web::Path<Id<Challenge>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.withdraw_rating(&caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own completion of a challenge with its solution, to show "your solution"
/// after a reload.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    responses(
        (status = 200, description = "The caller's completion", body = Completion),
        LoginRequired,
        (status = 404, description = "No such challenge, or the caller has not completed it", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/challenges/{id}/completion")]
async fn get_own_completion(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
) -> AppResult<web::Json<Completion>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.own_completion(&caller, id)).await?))
}

/// Give feedback on someone else's completion (403 on one's own).
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Completion id")),
    request_body = FeedbackBody,
    responses(
        (status = 201, description = "Created", body = Feedback, headers(("Location" = String, description = "URL of the feedback list"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Feedback on one's own completion", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such completion", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body or stars (each one named)", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/learning/completions/{id}/feedback")]
async fn give_feedback(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Completion>>,
    body: Json<FeedbackBody>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let feedback = call(service, move |s| s.give_feedback(&caller, id, body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/learning/completions/{id}/feedback"), &feedback))
}

/// The feedback on a completion, oldest first.
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Completion id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of feedback", body = Page<Feedback>),
        LoginRequired,
        (status = 404, description = "No such completion", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/completions/{id}/feedback")]
async fn list_feedback(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Completion>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<Feedback>>> {
    let id = id.into_inner().uuid();
    let paging = params.into_inner().parse("completion-feedback", &(id, caller.id))?;
    Ok(web::Json(call(service, move |s| s.feedback(&caller, id, &paging)).await?))
}

// ---- comments ----

/// Comment on a challenge.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Challenge id")),
    request_body = CommentBody,
    responses(
        (status = 201, description = "Created", body = Comment,
            headers(("Location" = String, description = "URL of the comment"), ("ETag" = String, description = "`\"1-<digest>\"`"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long body", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/learning/challenges/{id}/comments")]
async fn create_challenge_comment(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Challenge>>,
    body: Json<CommentBody>,
) -> AppResult<Tagged<Comment>> {
    let id = id.into_inner().uuid();
    let comment = call(service, move |s| s.create_comment(&caller, id, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/learning/comments/{}", comment.id), comment).by_representation())
}

/// A challenge's discussion, oldest first (anyone).
#[utoipa::path(tag = "learning", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Challenge id"), IdPagingParams),
    responses(
        (status = 200, description = "One page of comments", body = Page<Comment>),
        BadCredentials,
        (status = 404, description = "No such challenge", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/challenges/{id}/comments")]
async fn list_challenge_comments(
    service: Service,
    id: web::Path<Id<Challenge>>,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<Comment>>> {
    let id = id.into_inner().uuid();
    let paging = params.into_inner().parse("challenge-comments", &id)?;
    Ok(web::Json(call(service, move |s| s.comments(id, &paging)).await?))
}

/// One comment (anyone), with its `ETag`.
#[utoipa::path(tag = "learning", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Comment id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before: 304 while the body it tagged is current")),
    responses(
        (status = 200, description = "The comment", body = Comment, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag` (no body)"),
        BadCredentials,
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/comments/{id}")]
async fn get_challenge_comment(service: Service, id: web::Path<Id<Comment>>) -> AppResult<Tagged<Comment>> {
    let id = id.into_inner().uuid();
    Ok(Tagged::ok(call(service, move |s| s.comment(id)).await?).by_representation())
}

/// Edit a comment (its author; others get 403).
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Comment id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    request_body = CommentBody,
    responses(
        (status = 200, description = "The comment", body = Comment, headers(("ETag" = String, description = "`\"<version>-<digest>\"`: moves with every change of the body, aggregates and `me` included"))),
        JsonBodyErrors,
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Empty or too long body", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/learning/comments/{id}")]
async fn update_challenge_comment(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Comment>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
    body: Json<CommentBody>,
) -> AppResult<Tagged<Comment>> {
    let id = id.into_inner().uuid();
    let comment = call(service, move |s| s.update_comment(&caller, id, body.into_inner(), expected)).await?;
    Ok(Tagged::ok(comment).by_representation())
}

/// Delete a comment (its author; others get 403).
#[utoipa::path(tag = "learning", security(("bearer" = [])),
    params(("id" = String, Path, description = "Comment id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read, e.g. `\"3-5f0c2a1e9b7d4c36\"`; it names the version (the part before `-`), so ratings and completions since do not make it stale; the bare `\"3\"` works too")),
    responses(
        (status = 204, description = "Deleted"),
        LoginRequired,
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    ))]
#[delete("/learning/comments/{id}")]
async fn delete_challenge_comment(
    service: Service,
    caller: Caller,
    id: web::Path<Id<Comment>>,
    RepresentationIfMatch(expected): RepresentationIfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    call(service, move |s| s.delete_comment(&caller, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- progress ----

/// The caller's progress along every enrolled path, in path-id order.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(IdPagingParams),
    responses(
        (status = 200, description = "One page of enrolled paths with progress", body = Page<PathProgressSummary>),
        LoginRequired,
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/me/progress")]
async fn my_progress(
    service: Service,
    caller: Caller,
    params: web::Query<IdPagingParams>,
) -> AppResult<web::Json<Page<PathProgressSummary>>> {
    let paging = params.into_inner().parse("my-progress", &caller.id)?;
    Ok(web::Json(call(service, move |s| s.my_progress(&caller, &paging)).await?))
}

/// Each challenge of a path with the caller's completion of it.
#[utoipa::path(tag = "learning", security(("bearer" = [])), params(("id" = String, Path, description = "Path id")),
    responses(
        (status = 200, description = "The caller's progress along the path", body = PathProgress),
        LoginRequired,
        (status = 404, description = "No such path", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/learning/paths/{id}/progress")]
async fn path_progress(
    service: Service,
    caller: Caller,
    id: web::Path<Id<LearningPath>>,
) -> AppResult<web::Json<PathProgress>> {
    let id = id.into_inner().uuid();
    Ok(web::Json(call(service, move |s| s.path_progress(&caller, id)).await?))
}
