//! What the routes' annotations cannot say themselves, added to the OpenAPI document once
//! for every crate: `HEAD` beside every `GET` ([`crate::head`]), that the server always
//! sends every field of what it answers, and text patterns with `\s` spelled out as the
//! server's whitespace and invisible characters.
//!
//! utoipa marks an `Option<T>` field as not required, which is right for request bodies
//! (the client may leave it out) but wrong for responses: serde writes every field of a
//! response type, `null` included, unless the field says `skip_serializing_if`. Generated
//! clients would otherwise type `note.title` as `string | null | undefined` and make every
//! reader check for a field that is never missing. So every property of a schema that
//! only responses use becomes required; a schema that requests use too is left alone.
//! [`Problem`](core_models::Problem) (`errors`, `current_version`) and an activity entry's
//! `details` (`ActivityDetails`: its keys depend on the action) do leave fields out, so they
//! are kept as declared, and so do the pages of lists (`Page_*`) with `total` and
//! `total_capped`, which only `count=true` adds.

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;
use utoipa::openapi::OpenApi;

/// Schemas whose optional fields are really left out of responses (`skip_serializing_if`,
/// or an activity entry's `details`, whose keys depend on the action).
const SOMETIMES_ABSENT: &[&str] = &["Problem", "ActivityDetails"];

/// Properties left out of some responses of otherwise complete schemas: the schemas whose
/// name starts with the prefix, and the properties they may leave out.
const SOMETIMES_ABSENT_PROPERTIES: &[(&str, &[&str])] = &[("Page_", &["total", "total_capped"])];

const SCHEMA_REF: &str = "#/components/schemas/";

/// The served document: the generated one plus `HEAD` operations and required response
/// fields.
pub fn complete(mut openapi: OpenApi) -> anyhow::Result<OpenApi> {
    crate::head::document_head(&mut openapi);
    let mut doc = serde_json::to_value(&openapi)?;
    require_response_fields(&mut doc);
    spell_out_whitespace(&mut doc);
    crate::idempotency::document(&mut doc);
    Ok(serde_json::from_value(doc)?)
}

/// Every `\s` of every `pattern` spelled out as what the server counts as showing nothing
/// ([`core_models::text::spelled_out`]): the annotations say `^\s*[^\s\x00][^\x00]*$`,
/// clients get the characters, read alike by every engine.
fn spell_out_whitespace(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(pattern) if key == "pattern" && pattern.contains("\\s") => {
                        *pattern = core_models::text::spelled_out(pattern);
                    }
                    _ => spell_out_whitespace(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(spell_out_whitespace),
        _ => {}
    }
}

/// Marks every property of response-only schemas as required (see the module docs).
fn require_response_fields(doc: &mut Value) {
    let (mut requests, mut responses) = (Vec::new(), Vec::new());
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for operation in paths.values().filter_map(Value::as_object).flat_map(|item| item.values()) {
            for key in ["parameters", "requestBody"] {
                if let Some(part) = operation.get(key) {
                    requests.push(part);
                }
            }
            if let Some(part) = operation.get("responses") {
                responses.push(part);
            }
        }
    }
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or(Value::Null);
    let in_requests = reachable(&requests, &schemas);
    let in_responses = reachable(&responses, &schemas);
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    for name in in_responses.difference(&in_requests) {
        if SOMETIMES_ABSENT.contains(&name.as_str()) {
            continue;
        }
        if let Some(schema) = schemas.get_mut(name) {
            require_all(schema);
            let absent = SOMETIMES_ABSENT_PROPERTIES.iter().filter(|(prefix, _)| name.starts_with(prefix));
            for (_, properties) in absent {
                if let Some(Value::Array(required)) = schema.get_mut("required") {
                    required.retain(|p| !p.as_str().is_some_and(|p| properties.contains(&p)));
                }
            }
        }
    }
}

/// The names of the component schemas `roots` refer to, directly or through other schemas.
fn reachable(roots: &[&Value], schemas: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&Value> = roots.iter().copied().collect();
    while let Some(value) = queue.pop_front() {
        match value {
            Value::Object(map) => {
                if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(SCHEMA_REF)) {
                    if seen.insert(name.to_string()) {
                        if let Some(schema) = schemas.get(name) {
                            queue.push_back(schema);
                        }
                    }
                }
                queue.extend(map.values());
            }
            Value::Array(items) => queue.extend(items),
            _ => {}
        }
    }
    seen
}

/// Requires every property of `schema` and of the objects nested in it.
fn require_all(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        let names: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
        map.insert("required".into(), Value::Array(names));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" => value.as_object_mut().into_iter().flat_map(|p| p.values_mut()).for_each(require_all),
            "items" | "additionalProperties" => require_all(value),
            "oneOf" | "anyOf" | "allOf" => value.as_array_mut().into_iter().flatten().for_each(require_all),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn response_only_schemas_require_every_field_and_shared_ones_stay() {
        let mut doc = json!({
            "paths": {"/x": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page_Out"}}}},
                    "422": {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                }
            }}},
            "components": {"schemas": {
                "In": {"type": "object", "properties": {"a": {"type": "string"}, "shared": {"$ref": "#/components/schemas/Shared"}}},
                "Page_Out": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Out"}},
                    "next_cursor": {"type": ["string", "null"]},
                    "total": {"type": "integer"},
                    "total_capped": {"type": "boolean"}
                }},
                "Out": {"type": "object", "properties": {
                    "title": {"type": ["string", "null"]},
                    "inner": {"type": "object", "properties": {"x": {"type": "integer"}}},
                    "shared": {"$ref": "#/components/schemas/Shared"}
                }},
                "Shared": {"type": "object", "properties": {"s": {"type": ["string", "null"]}}},
                "Problem": {"type": "object", "required": ["status"], "properties": {"status": {}, "errors": {}}}
            }}
        });
        require_response_fields(&mut doc);
        let schemas = &doc["components"]["schemas"];
        let required = |schema: &Value| {
            let mut names: Vec<String> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str())
                .map(String::from)
                .collect();
            names.sort();
            names
        };
        assert_eq!(required(&schemas["Page_Out"]), ["items", "next_cursor"], "totals only come with count=true");
        assert_eq!(required(&schemas["Out"]), ["inner", "shared", "title"]);
        assert_eq!(required(&schemas["Out"]["properties"]["inner"]), ["x"]);
        assert!(schemas["In"].get("required").is_none(), "request bodies keep optional fields");
        assert!(schemas["Shared"].get("required").is_none(), "a schema requests use too is left alone");
        assert_eq!(schemas["Problem"]["required"], json!(["status"]), "problems do leave fields out");
    }
}
