//! The notes routes: parse and check the request, call the [`NoteService`] on the blocking
//! pool, shape the response. No business rules live here.

use std::sync::Arc;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use core_models::http::{blocking, created, Json};
use core_models::id::Id;
use core_models::openapi::JsonBodyErrors;
use core_models::{AppResult, Page, Problem, API_BASE};
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

/// Create a note.
#[utoipa::path(
    tag = "notes",
    request_body = NewNote,
    responses(
        (status = 201, description = "Created", body = Note,
            headers(("Location" = String, description = "URL of the new note"))),
        JsonBodyErrors,
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notes")]
async fn create_note(notes: Notes, body: Json<NewNote>) -> AppResult<HttpResponse> {
    let notes = notes.into_inner();
    let note = blocking(move || notes.create(body.into_inner())).await?;
    Ok(created(format!("{API_BASE}/notes/{}", note.id), &note))
}

/// List notes, newest first unless `sort` says otherwise; `q` searches title and content.
#[utoipa::path(
    tag = "notes",
    params(ListNotesParams),
    responses(
        (status = 200, description = "One page of notes", body = Page<Note>),
        (status = 422, description = "Bad limit, cursor, sort or q", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notes")]
async fn list_notes(notes: Notes, params: web::Query<ListNotesParams>) -> AppResult<web::Json<Page<Note>>> {
    let query = ListNotes::parse(params.into_inner())?;
    let notes = notes.into_inner();
    Ok(web::Json(blocking(move || notes.list(&query)).await?))
}

/// One note.
#[utoipa::path(
    tag = "notes",
    params(("id" = String, Path, description = "Note id")),
    responses(
        (status = 200, description = "The note", body = Note),
        (status = 404, description = "No such note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notes/{id}")]
async fn get_note(notes: Notes, id: web::Path<Id<Note>>) -> AppResult<web::Json<Note>> {
    let id = id.into_inner().uuid();
    let notes = notes.into_inner();
    Ok(web::Json(blocking(move || notes.get(id)).await?))
}

/// Change the title and/or content; `updated_at` moves.
#[utoipa::path(
    tag = "notes",
    params(("id" = String, Path, description = "Note id")),
    request_body = NoteChanges,
    responses(
        (status = 200, description = "The changed note", body = Note),
        JsonBodyErrors,
        (status = 404, description = "No such note", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/notes/{id}")]
async fn update_note(notes: Notes, id: web::Path<Id<Note>>, body: Json<NoteChanges>) -> AppResult<web::Json<Note>> {
    let id = id.into_inner().uuid();
    let notes = notes.into_inner();
    Ok(web::Json(blocking(move || notes.update(id, body.into_inner())).await?))
}

/// Delete a note.
#[utoipa::path(
    tag = "notes",
    params(("id" = String, Path, description = "Note id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/notes/{id}")]
async fn delete_note(notes: Notes, id: web::Path<Id<Note>>) -> AppResult<HttpResponse> {
    let id = id.into_inner().uuid();
    let notes = notes.into_inner();
    blocking(move || notes.delete(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
