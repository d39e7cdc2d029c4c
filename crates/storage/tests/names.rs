//! Display names from memory (`storage::names`), on the engine the environment chooses:
//! read once, then served without a statement; a rename or a deletion by SQL moves the
//! version, and the next read at the new version reads the names again.

#![allow(clippy::unwrap_used)]

use diesel::prelude::*;
use storage::names::{People, VERSION};
use storage::testing::{record_statements, statements_of};
use storage::Database;
use uuid::Uuid;

fn version(db: &Database) -> i64 {
    diesel::select(VERSION).get_result(&mut *db.read().unwrap()).unwrap()
}

fn sql(db: &Database, statement: &'static str, id: Uuid) {
    db.write(move |c| {
        storage::sql::sql(statement).bind_text(id.to_string()).untyped().execute(c)?;
        Ok(())
    })
    .unwrap();
}

/// The names of `ids` at `at`, and the statements that read them.
fn people(db: &Database, at: i64, ids: &[Uuid]) -> (Vec<String>, Vec<String>) {
    let mut conn = db.read().unwrap();
    let (people, sent) = statements_of(None, || People::of(&mut conn, at, ids.iter().copied()).unwrap());
    (ids.iter().map(|id| people.user("test.user", *id).unwrap().display_name).collect(), sent)
}

#[test]
fn names_are_read_once_per_version_and_a_rename_or_deletion_moves_the_version() {
    record_statements();
    let db = storage::test_pool();
    let users = storage::testing::users(&db, &["Ada".into(), "Bob".into(), "Eve".into()]);
    let (ada, bob, eve) = (users[0].id, users[1].id, users[2].id);
    let v0 = version(&db);
    assert_eq!(v0, 0, "a database without renames is at version 0");

    // Repeated ids are read once; the first read is one statement, the second none.
    let (names, sent) = people(&db, v0, &[ada, bob, ada]);
    assert_eq!(names, ["Ada", "Bob", "Ada"]);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (names, sent) = people(&db, v0, &[bob, ada]);
    assert_eq!(names, ["Bob", "Ada"]);
    assert!(sent.is_empty(), "remembered: {sent:#?}");
    // Eve alone is read.
    let (names, sent) = people(&db, v0, &[ada, eve]);
    assert_eq!(names, ["Ada", "Eve"]);
    assert_eq!(sent.len(), 1, "{sent:#?}");

    // A rename by hand moves the version; rows read after it name the new name.
    sql(&db, "UPDATE users SET display_name = 'Robert' WHERE id = ", bob);
    let v1 = version(&db);
    assert!(v1 > v0, "{v1} after {v0}");
    let (names, sent) = people(&db, v1, &[ada, bob]);
    assert_eq!(names, ["Ada", "Robert"]);
    assert_eq!(sent.len(), 1, "read again at the new version: {sent:#?}");
    let (_, sent) = people(&db, v1, &[ada, bob]);
    assert!(sent.is_empty(), "{sent:#?}");

    // Setting the same name is no rename.
    sql(&db, "UPDATE users SET display_name = 'Robert' WHERE id = ", bob);
    assert_eq!(version(&db), v1);

    // A deletion moves it too.
    sql(&db, "DELETE FROM users WHERE id = ", eve);
    let v2 = version(&db);
    assert!(v2 > v1, "{v2} after {v1}");
    let mut conn = db.read().unwrap();
    let people = People::of(&mut conn, v2, [ada, eve]).unwrap();
    assert_eq!(people.user("test.user", ada).unwrap().display_name, "Ada");
    let missing = people.user("test.user", eve).unwrap_err();
    assert_eq!(missing.status_code(), 500, "a row naming nobody is a damaged database: {missing:?}");
}
