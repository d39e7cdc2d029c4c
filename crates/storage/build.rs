//! Rebuilds this crate when a migration folder is added or changed: `embed_migrations!`
//! reads `migrations/sqlite/` and `migrations/postgres/` at compile time, and Cargo tracks
//! only the files it already knew of.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
