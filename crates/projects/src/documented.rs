//! The OpenAPI document lists every activity action as an enum value
//! ([`activity_log::ACTIONS`]); this test reads the crate's source for the actions it
//! writes, so a new one cannot go undocumented.

/// The quoted `word.word` literals of `source` whose first word is an activity subject
/// (`"task.created"`; not table columns like `"project_tasks.status"`).
fn actions_in(source: &str) -> Vec<String> {
    const SUBJECTS: [&str; 7] = ["team", "member", "project", "task", "tasks", "comment", "label"];
    // Every piece between two quotes that is wholly `word.word`: code between literals has
    // spaces or punctuation, so it never passes for one.
    source
        .split('"')
        .filter(|literal| {
            let mut words = literal.split('.');
            let (Some(subject), Some(verb), None) = (words.next(), words.next(), words.next()) else { return false };
            SUBJECTS.contains(&subject) && !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_action_written_is_in_the_documented_list() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut written = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("documented.rs") {
            written.extend(actions_in(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(written.iter().any(|a| a == "task.status_changed"), "the scan finds actions: {written:?}");
    let missing: Vec<&String> = written.iter().filter(|a| !activity_log::ACTIONS.contains(&a.as_str())).collect();
    assert!(missing.is_empty(), "actions written but not in activity_log::ACTIONS (schema.rs): {missing:?}");
}

#[test]
fn the_scan_finds_actions_and_skips_columns() {
    let source =
        r#"NewEntry::new(t, "task.moved"); col("project_tasks.status"); ['"'] => "task.x_y", "a.b.c"; task.id"#;
    assert_eq!(actions_in(source), ["task.moved", "task.x_y"]);
}
