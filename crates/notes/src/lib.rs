//! Sticky notes: a minimal Google-Keep-like service that works with or without a login.
//!
//! [`NoteService`] is the contract; [`InMemoryNotes`] and [`DbNotes`] implement it and
//! pass the same conformance suite (`tests/conformance.rs`). Every call names a
//! [`Board`](core_models::Board): the shared anonymous board, or one user's own, whose
//! notes nobody else sees. Notes carry a `version`; writes take an
//! [`IfMatch`](core_models::version::IfMatch) condition checked in the same step as the
//! change. [`http::configure`] mounts the routes on an actix-web (utoipa) scope. The crate
//! works as a library on its own:
//!
//! ```
//! use core_models::version::IfMatch;
//! use core_models::Board;
//! use notes::{ListNotes, NewNote, NoteChanges, NoteService, DbNotes};
//!
//! let db = storage::test_pool();
//! let notes = DbNotes::new(db.database());
//! let ada = Board::User(uuid::Uuid::now_v7());
//! let note = notes.create(ada, NewNote { title: Some("Shopping".into()), content: "milk, eggs".into() })?;
//! assert_eq!((notes.get(ada, note.id)?.content.as_str(), note.version), ("milk, eggs", 1));
//!
//! let found = notes.list(ada, &ListNotes { search: Some(vec!["egg".into()]), ..ListNotes::default() })?;
//! assert_eq!(found.items, vec![note.clone()]);
//! assert!(notes.list(Board::Anonymous, &ListNotes::default())?.items.is_empty(), "Ada's board is her own");
//!
//! let more = NoteChanges { content: Some(Some("milk, eggs, tea".into())), ..NoteChanges::default() };
//! assert_eq!(notes.update(ada, note.id, more.clone(), IfMatch::version(1))?.version, 2);
//! assert_eq!(notes.update(ada, note.id, more, IfMatch::version(1)).unwrap_err().status_code(), 412);
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod http;
mod memory;
mod model;
mod service;
mod store;

pub use memory::InMemoryNotes;
pub use model::{ListNotes, ListNotesParams, NewNote, Note, NoteChanges, NoteSort};
pub use service::NoteService;
pub use store::DbNotes;
