//! Which events a webhook receives: a list of actions (`task.created`) and `prefix.*`
//! patterns (`task.*`: every action of that prefix), checked against the actions the
//! activity log knows ([`activity_log::ACTIONS`]) so that a typo is a 422, not a webhook
//! that silently never fires.

use core_models::FieldError;

/// The most entries an `events` list may hold.
pub const EVENTS_MAX: usize = 100;

/// The action of a ping (not an activity entry: sent to the webhook whatever its events).
pub const PING: &str = "webhook.ping";

/// Checks and normalises an `events` list (named `field` in errors): every entry a known
/// action or a `prefix.*` of a known prefix, at least one, duplicates dropped, order kept.
pub fn parse(field: &str, events: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if events.is_empty() {
        errors.push(FieldError::new(field, "must name at least one action or `prefix.*` pattern"));
    }
    if events.len() > EVENTS_MAX {
        errors.push(FieldError::new(field, format!("must hold at most {EVENTS_MAX} entries")));
    }
    let mut kept: Vec<String> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let event = event.trim();
        if !known(event) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "must be a known action (e.g. `task.created`) or a `prefix.*` pattern of a known prefix (e.g. `task.*`)",
            ));
        } else if !kept.iter().any(|k| k == event) {
            kept.push(event.to_string());
        }
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err(errors)
    }
}

fn known(event: &str) -> bool {
    match event.strip_suffix(".*") {
        Some(prefix) => {
            activity_log::ACTIONS.iter().any(|action| action.split_once('.').is_some_and(|(p, _)| p == prefix))
        }
        None => activity_log::ACTIONS.contains(&event),
    }
}

/// Whether `action` is one of `events` (an action equal to it, or a `prefix.*` of its prefix).
pub fn matches(events: &[String], action: &str) -> bool {
    let prefix = action.split_once('.').map_or(action, |(p, _)| p);
    events.iter().any(|event| match event.strip_suffix(".*") {
        Some(pattern) => pattern == prefix,
        None => event == action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn patterns_match_their_prefix_and_actions_themselves() {
        let events = list(&["task.*", "comment.created"]);
        assert!(matches(&events, "task.created"));
        assert!(matches(&events, "task.status_changed"));
        assert!(matches(&events, "comment.created"));
        assert!(!matches(&events, "comment.deleted"));
        assert!(!matches(&events, "tasks.created"));
        assert!(!matches(&events, "project.created"));
    }

    #[test]
    fn unknown_actions_and_prefixes_are_named() {
        assert_eq!(
            parse("events", &list(&["task.*", "task.*", " comment.created"])).unwrap(),
            list(&["task.*", "comment.created"])
        );
        let errors = parse("events", &list(&["task.created", "task.creatd", "nope.*", "*", "task"])).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["events[1]", "events[2]", "events[3]", "events[4]"]);
        assert_eq!(parse("events", &[]).unwrap_err()[0].field, "events");
    }
}
