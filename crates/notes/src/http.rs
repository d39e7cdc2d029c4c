//! The notes routes: parse and check the request, call the [`NoteService`] on the blocking
//! pool, shape the response. No business rules live here: the caller's [`Board`] and the
//! `If-Match` condition go to the service, which applies them.
//!
//! Every route works with or without a login (a token makes the notes the caller's own).
//! Single notes answer with `ETag: "<version>"`; `HEAD` is answered by the gateway, which
//! runs it as a `GET` and sends no body.

use std::sync::Arc;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{blocking, blocking_search, Json, Tagged};
use core_models::id::Id;
use core_models::openapi::{BadCredentials, JsonBodyErrors, StaleVersion};
use core_models::version::IfMatch;
use core_models::{AppResult, Board, Page, Problem, API_BASE};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::model::{ListNotes, ListNotesParams, NewNote, Note, NoteChanges};
use crate::NoteService;

type Notes = web::Data<dyn NoteService>;

/// Mounts the notes routes (relative to the API base) with `service` behind them.
pub fn configure(service: Arc<dyn NoteService>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(service))
            .service(create_note)
            .service(list_notes)
            .service(get_note)
            .service(update_note)
            .service(delete_note);
    }
}

/// Create a note (on the caller's board with a token, on the anonymous board without).
#[utoipa::path(
    tag = "notes",
    request_body = NewNote,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Note,
            headers(
                ("Location" = String, description = "URL of the new note"),
                ("ETag" = String, description = "`\"1\"`: the note's version"),
            )),
        JsonBodyErrors,
        BadCredentials,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notes")]
async fn create_note(notes: Notes, board: Board, body: Json<NewNote>) -> AppResult<Tagged<Note>> {
    let notes = notes.into_inner();
    let note = blocking(move || notes.create(board, body.into_inner())).await?;
    Ok(Tagged::created(format!("{API_BASE}/notes/{}", note.id), note))
}

/// List the board's notes, newest first unless `sort` says otherwise; `q` searches title
/// and content. `HEAD` answers the same headers without the body.
#[utoipa::path(
    tag = "notes",
    params(ListNotesParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of notes", body = Page<Note>),
        BadCredentials,
        (status = 422, description = "Bad limit, cursor, sort or q", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notes")]
async fn list_notes(
    notes: Notes,
    board: Board,
    params: web::Query<ListNotesParams>,
) -> AppResult<web::Json<Page<Note>>> {
    let mut query = ListNotes::parse(params.into_inner())?;
    query.page.bind("board", &board);
    let searching = query.search.is_some();
    let notes = notes.into_inner();
    let list = move || notes.list(board, &query);
    Ok(web::Json(if searching { blocking_search(list).await? } else { blocking(list).await? }))
}

/// One note of the board; `If-None-Match` with its current `ETag` answers 304. `HEAD`
/// answers the same headers without the body.
#[utoipa::path(
    tag = "notes",
    params(
        ("id" = String, Path, description = "Note id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` seen before (`\"3\"`, `W/\"3\"` or `*`): 304 while it is current"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The note", body = Note,
            headers(("ETag" = String, description = "`\"<version>\"`"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current version (no body)",
            headers(("ETag" = String, description = "`\"<version>\"`"))),
        BadCredentials,
        (status = 404, description = "No such note on this board", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notes/{id}")]
async fn get_note(notes: Notes, board: Board, id: web::Path<Id<Note>>) -> AppResult<Tagged<Note>> {
    let id = id.into_inner().uuid();
    let notes = notes.into_inner();
    Ok(Tagged::ok(blocking(move || notes.get(board, id)).await?))
}

/// Change the title and/or content; `updated_at` moves and `version` goes up by one.
/// With `If-Match`, only while the note is still at that version (else 412).
#[utoipa::path(
    tag = "notes",
    params(
        ("id" = String, Path, description = "Note id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on (`\"3\"`; `W/\"3\"` counts too; `*` is any): 412 if the note has changed since"),
    ),
    request_body = NoteChanges,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The changed note", body = Note,
            headers(("ETag" = String, description = "`\"<version>\"` after the change"))),
        JsonBodyErrors,
        BadCredentials,
        (status = 404, description = "No such note on this board", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/notes/{id}")]
async fn update_note(
    notes: Notes,
    board: Board,
    id: web::Path<Id<Note>>,
    expected: IfMatch,
    body: Json<NoteChanges>,
) -> AppResult<Tagged<Note>> {
    let id = id.into_inner().uuid();
    let notes = notes.into_inner();
    Ok(Tagged::ok(blocking(move || notes.update(board, id, body.into_inner(), expected)).await?))
}

/// Delete a note; with `If-Match`, only while it is still at that version (else 412).
#[utoipa::path(
    tag = "notes",
    params(
        ("id" = String, Path, description = "Note id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` last seen (`\"3\"`; `W/\"3\"` counts too; `*` is any): 412 if the note has changed since"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        BadCredentials,
        (status = 404, description = "No such note on this board", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    )
)]
#[delete("/notes/{id}")]
async fn delete_note(
    notes: Notes,
    board: Board,
    id: web::Path<Id<Note>>,
    expected: IfMatch,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let notes = notes.into_inner();
    blocking(move || notes.delete(board, id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}
