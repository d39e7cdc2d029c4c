//! The one Diesel schema of Corkboard. Written by hand to match `migrations/`; a test
//! (`schema_matches_migrations`) checks that every table here exists after migrating.
//!
//! Timestamps are `BigInt` milliseconds since the epoch (see `core_models::time`); ids are
//! UUID text. Tables keep an integer rowid (`seq`) where FTS5 indexes them.

diesel::table! {
    /// Sticky notes. `seq` is the rowid FTS5 (`notes_fts`) indexes; `id` is the public id.
    notes (seq) {
        seq -> BigInt,
        id -> Text,
        title -> Nullable<Text>,
        content -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

// -- tasks (freelancer task tracker) --

// -- accounts (users, tokens) --
