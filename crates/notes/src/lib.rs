//! Sticky notes: a minimal Google-Keep-like service with no login.
//!
//! [`NoteService`] is the contract; [`InMemoryNotes`] and [`SqliteNotes`] implement it and
//! pass the same conformance suite (`tests/conformance.rs`). [`http::configure`] mounts
//! the routes on an actix-web (utoipa) scope. The crate works as a library on its own:
//!
//! ```
//! use notes::{ListNotes, NewNote, NoteService, SqliteNotes};
//!
//! let db = storage::test_pool();
//! let notes = SqliteNotes::new(db.database());
//! let note = notes.create(NewNote { title: Some("Shopping".into()), content: "milk, eggs".into() })?;
//! assert_eq!(notes.get(note.id)?.content, "milk, eggs");
//!
//! let found = notes.list(&ListNotes { search: Some(vec!["egg".into()]), ..ListNotes::default() })?;
//! assert_eq!(found.items, vec![note]);
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod http;
mod memory;
mod model;
mod service;
mod sqlite;

pub use memory::InMemoryNotes;
pub use model::{ListNotes, ListNotesParams, NewNote, Note, NoteChanges, NoteSort};
pub use service::NoteService;
pub use sqlite::SqliteNotes;
