//! Notes kept in process memory: fast, and gone when the process ends.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use core_models::pagination::compare_keys;
use core_models::{AppError, AppResult, Page};
use uuid::Uuid;

use crate::model::{ListNotes, NewNote, Note, NoteChanges};
use crate::NoteService;

/// A [`NoteService`] over a map in memory. Lists sort and filter on every call, which
/// suits the small collections this store is meant for (demos, tests, prototypes).
#[derive(Debug, Default)]
pub struct InMemoryNotes {
    notes: RwLock<HashMap<Uuid, Note>>,
}

impl InMemoryNotes {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Whether every term is a prefix of some word of the note (FTS5's `"term"*` semantics).
fn matches(note: &Note, terms: &[String]) -> bool {
    let mut words = storage::search::search_terms(&note.content);
    if let Some(title) = &note.title {
        words.extend(storage::search::search_terms(title));
    }
    terms.iter().all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
}

impl NoteService for InMemoryNotes {
    fn create(&self, new: NewNote) -> AppResult<Note> {
        let note = new.validate()?.into_note();
        // A poisoned lock only means another call panicked mid-way; the map is still whole.
        let mut notes = self.notes.write().unwrap_or_else(PoisonError::into_inner);
        notes.insert(note.id, note.clone());
        Ok(note)
    }

    fn list(&self, query: &ListNotes) -> AppResult<Page<Note>> {
        let after = query.after()?;
        let directions = query.sort.directions();
        let notes = self.notes.read().unwrap_or_else(PoisonError::into_inner);
        let mut rows: Vec<(Vec<_>, &Note)> = notes
            .values()
            .filter(|n| query.search.as_ref().is_none_or(|terms| !terms.is_empty() && matches(n, terms)))
            .map(|n| (query.keys_of(n), n))
            .filter(|(keys, _)| after.is_none_or(|a| compare_keys(keys, a, &directions).is_gt()))
            .collect();
        rows.sort_by(|a, b| compare_keys(&a.0, &b.0, &directions));
        rows.truncate(query.page.limit as usize + 1);
        let rows = rows.into_iter().map(|(_, n)| n.clone()).collect();
        Ok(Page::from_overfetch(rows, query.page.limit, &query.sort, |n| query.keys_of(n)))
    }

    fn get(&self, id: Uuid) -> AppResult<Note> {
        let notes = self.notes.read().unwrap_or_else(PoisonError::into_inner);
        notes.get(&id).cloned().ok_or_else(|| AppError::not_found("note"))
    }

    fn update(&self, id: Uuid, changes: NoteChanges) -> AppResult<Note> {
        let changes = changes.validate()?;
        let mut notes = self.notes.write().unwrap_or_else(PoisonError::into_inner);
        let note = notes.get_mut(&id).ok_or_else(|| AppError::not_found("note"))?;
        if !changes.is_empty() {
            *note = changes.apply_to(note);
        }
        Ok(note.clone())
    }

    fn delete(&self, id: Uuid) -> AppResult<()> {
        let mut notes = self.notes.write().unwrap_or_else(PoisonError::into_inner);
        notes.remove(&id).map(|_| ()).ok_or_else(|| AppError::not_found("note"))
    }
}
