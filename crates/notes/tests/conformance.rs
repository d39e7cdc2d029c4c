//! One conformance suite for every `NoteService` implementation: each scenario below runs
//! against the in-memory store and the SQLite store.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use core_models::pagination::PageRequest;
use core_models::sort::Sort;
use notes::{InMemoryNotes, ListNotes, NewNote, Note, NoteChanges, NoteService, SqliteNotes};

/// A store plus whatever keeps it alive (the temp database).
type Store = (Box<dyn NoteService>, Option<storage::TestDb>);

fn memory() -> Store {
    (Box::new(InMemoryNotes::new()), None)
}

fn sqlite() -> Store {
    let db = storage::test_pool();
    (Box::new(SqliteNotes::new(db.database())), Some(db))
}

macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod in_memory { $(#[test] fn $scenario() { let (s, _keep) = super::memory(); super::$scenario(&*s); })* }
        mod sqlite { $(#[test] fn $scenario() { let (s, _keep) = super::sqlite(); super::$scenario(&*s); })* }
    };
}

conformance!(
    create_get_delete,
    update_moves_updated_at_and_keeps_the_rest,
    rules_are_enforced_by_the_service,
    unknown_ids_are_not_found,
    default_order_is_newest_first,
    every_sort_pages_without_skips_or_repeats,
    search_needs_every_word_as_a_prefix,
    cursor_from_another_sort_is_refused,
);

fn new(title: Option<&str>, content: &str) -> NewNote {
    NewNote { title: title.map(str::to_string), content: content.to_string() }
}

fn list(s: &dyn NoteService, sort: &str, limit: u32, search: Option<&str>) -> Vec<Note> {
    let mut query = ListNotes {
        page: PageRequest::first(limit),
        sort: Sort::parse(Some(sort), "-created_at").unwrap(),
        search: search.map(storage::search::search_terms),
    };
    let mut all = Vec::new();
    loop {
        let page = s.list(&query).unwrap();
        assert!(page.items.len() <= limit as usize);
        all.extend(page.items);
        let Some(cursor) = page.next_cursor else { break };
        let mut v = core_models::Violations::new();
        query.page = PageRequest::parse(Some(&limit.to_string()), Some(&cursor), &mut v);
        v.finish().unwrap();
    }
    all
}

fn create_get_delete(s: &dyn NoteService) {
    let note = s.create(new(Some(" Title "), " body ")).unwrap();
    assert_eq!((note.title.as_deref(), note.content.as_str()), (Some("Title"), "body"));
    assert_eq!(note.created_at, note.updated_at);
    assert_eq!(s.get(note.id).unwrap(), note);
    s.delete(note.id).unwrap();
    assert_eq!(s.get(note.id).unwrap_err().status_code(), 404);
    assert_eq!(s.delete(note.id).unwrap_err().status_code(), 404);
}

fn update_moves_updated_at_and_keeps_the_rest(s: &dyn NoteService) {
    let note = s.create(new(Some("t"), "c")).unwrap();
    let changed =
        s.update(note.id, NoteChanges { content: Some(Some("c2".into())), ..NoteChanges::default() }).unwrap();
    assert_eq!((changed.title.as_deref(), changed.content.as_str()), (Some("t"), "c2"));
    assert!(changed.updated_at > note.updated_at);
    assert_eq!(changed.created_at, note.created_at);
    let cleared = s.update(note.id, NoteChanges { title: Some(None), ..NoteChanges::default() }).unwrap();
    assert_eq!(cleared.title, None);
    assert!(cleared.updated_at > changed.updated_at);
    assert_eq!(s.get(note.id).unwrap(), cleared);
    assert_eq!(s.update(note.id, NoteChanges::default()).unwrap(), cleared, "empty change is a no-op");
}

fn rules_are_enforced_by_the_service(s: &dyn NoteService) {
    let err = s.create(new(Some(&"x".repeat(201)), "  ")).unwrap_err();
    let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["title", "content"]);
    let note = s.create(new(None, "ok")).unwrap();
    let err = s.update(note.id, NoteChanges { content: Some(None), ..NoteChanges::default() }).unwrap_err();
    assert_eq!(err.status_code(), 422);
    assert_eq!(s.get(note.id).unwrap(), note);
}

fn unknown_ids_are_not_found(s: &dyn NoteService) {
    let id = uuid::Uuid::now_v7();
    assert_eq!(s.get(id).unwrap_err().status_code(), 404);
    assert_eq!(s.update(id, NoteChanges::default()).unwrap_err().status_code(), 404);
    assert_eq!(s.delete(id).unwrap_err().status_code(), 404);
}

fn default_order_is_newest_first(s: &dyn NoteService) {
    let ids: Vec<_> = (0..5).map(|i| s.create(new(None, &format!("n{i}"))).unwrap().id).collect();
    let listed: Vec<_> = s.list(&ListNotes::default()).unwrap().items.iter().map(|n| n.id).collect();
    assert_eq!(listed, ids.into_iter().rev().collect::<Vec<_>>());
}

fn every_sort_pages_without_skips_or_repeats(s: &dyn NoteService) {
    let titles = [Some("b"), None, Some("a"), Some("b"), None, Some("c"), Some("a")];
    let created: HashSet<_> = titles.iter().map(|t| s.create(new(*t, "x")).unwrap().id).collect();
    for sort in [
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "title",
        "-title",
        "title,-created_at",
        "-title,updated_at",
    ] {
        let whole = list(s, sort, 200, None);
        assert_eq!(whole.iter().map(|n| n.id).collect::<HashSet<_>>(), created, "{sort}");
        for limit in [1, 2, 3] {
            let paged: Vec<_> = list(s, sort, limit, None).iter().map(|n| n.id).collect();
            assert_eq!(paged, whole.iter().map(|n| n.id).collect::<Vec<_>>(), "{sort} by {limit}");
        }
    }
    let by_title: Vec<_> = list(s, "title", 200, None).into_iter().map(|n| n.title).collect();
    assert_eq!(&by_title[..2], [None, None], "notes without a title sort first ascending");
    assert!(by_title[2..].windows(2).all(|w| w[0] <= w[1]));
}

fn search_needs_every_word_as_a_prefix(s: &dyn NoteService) {
    let a = s.create(new(Some("Shopping"), "milk and COFFEE beans")).unwrap();
    let b = s.create(new(None, "coffee machine repair")).unwrap();
    s.create(new(None, "unrelated")).unwrap();
    let ids = |q: &str| list(s, "-created_at", 1, Some(q)).iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids("coffee"), [b.id, a.id]);
    assert_eq!(ids("coff mach"), [b.id]);
    assert_eq!(ids("shop"), [a.id]);
    assert!(ids("tea").is_empty());
    assert!(ids("!!").is_empty());
}

fn cursor_from_another_sort_is_refused(s: &dyn NoteService) {
    for i in 0..3 {
        s.create(new(None, &format!("n{i}"))).unwrap();
    }
    let first = s.list(&ListNotes { page: PageRequest::first(1), ..ListNotes::default() }).unwrap();
    let mut v = core_models::Violations::new();
    let page = PageRequest::parse(None, first.next_cursor.as_deref(), &mut v);
    let query = ListNotes { page, sort: Sort::parse(Some("title"), "-created_at").unwrap(), search: None };
    assert_eq!(s.list(&query).unwrap_err().field_errors()[0].field, "cursor");
}
