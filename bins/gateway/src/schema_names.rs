//! A check that no two shapes share one schema name in the OpenAPI document.
//!
//! utoipa names a schema after its Rust type (or its `#[schema(as = ...)]`) and keeps the
//! last one it is given under a name, silently: when two crates both have a `Comment`,
//! every `$ref` to `Comment` points at one of them, and generated clients type the other
//! crate's responses wrongly. The gateway's tests build each domain crate's document on its
//! own (where each name is that crate's shape) and compare it with the merged one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const SCHEMA_REF: &str = "#/components/schemas/";

/// Everything wrong with the schema names of `merged`, the document of all `domains`
/// (each domain's own document beside its name): a name two domains give different
/// shapes, and each operation whose response refers to a schema that is another
/// domain's shape in `merged`. Empty when every name means one shape.
pub fn clashes(merged: &Value, domains: &[(&str, Value)]) -> Vec<String> {
    let mut problems = Vec::new();
    // name -> (shape, domains giving it that shape)
    let mut shapes: BTreeMap<&str, Vec<(&Value, Vec<&str>)>> = BTreeMap::new();
    for (domain, doc) in domains {
        for (name, shape) in schemas(doc) {
            let known = shapes.entry(name).or_default();
            match known.iter_mut().find(|(s, _)| *s == shape) {
                Some((_, owners)) => owners.push(domain),
                None => known.push((shape, vec![domain])),
            }
        }
    }
    for (name, variants) in &shapes {
        if variants.len() > 1 {
            let owners: Vec<String> = variants.iter().map(|(_, o)| o.join("+")).collect();
            problems.push(format!("schema `{name}` has {} shapes, from {}", variants.len(), owners.join(" and ")));
        }
    }
    let merged_schemas: BTreeMap<&str, &Value> = schemas(merged).collect();
    for (domain, doc) in domains {
        let own: BTreeMap<&str, &Value> = schemas(doc).collect();
        for (operation, names) in response_refs(doc) {
            for name in names {
                if own.get(name.as_str()) != merged_schemas.get(name.as_str()) {
                    problems.push(format!(
                        "{operation} ({domain}) answers `{name}`, but the document's `{name}` has another shape"
                    ));
                }
            }
        }
    }
    problems
}

fn schemas(doc: &Value) -> impl Iterator<Item = (&str, &Value)> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
}

/// For each operation (`GET /path`), the schema names its responses refer to, directly
/// or through other schemas.
fn response_refs(doc: &Value) -> Vec<(String, BTreeSet<String>)> {
    let all: BTreeMap<&str, &Value> = schemas(doc).collect();
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return out };
    for (path, item) in paths {
        let Some(item) = item.as_object() else { continue };
        for (method, operation) in item {
            let Some(responses) = operation.get("responses") else { continue };
            let mut seen = BTreeSet::new();
            let mut queue = vec![responses];
            while let Some(value) = queue.pop() {
                match value {
                    Value::Object(map) => {
                        let target = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(SCHEMA_REF));
                        if let Some(name) = target {
                            if seen.insert(name.to_string()) {
                                queue.extend(all.get(name).copied());
                            }
                        }
                        queue.extend(map.values());
                    }
                    Value::Array(items) => queue.extend(items),
                    _ => {}
                }
            }
            out.push((format!("{} {path}", method.to_uppercase()), seen));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(schema: Value) -> Value {
        json!({
            "paths": {"/things": {"get": {"responses": {"200": {"content": {"application/json":
                {"schema": {"$ref": "#/components/schemas/Page_Thing"}}}}}}}},
            "components": {"schemas": {
                "Thing": schema,
                "Page_Thing": {"type": "object", "properties": {"items": {"type": "array",
                    "items": {"$ref": "#/components/schemas/Thing"}}}},
            }},
        })
    }

    #[test]
    fn two_shapes_under_one_name_are_caught() {
        let a = doc(json!({"type": "object", "required": ["task_id"]}));
        let b = doc(json!({"type": "object", "required": ["challenge_id"]}));
        // utoipa kept the last: `b`'s shape.
        let problems = clashes(&b, &[("a", a.clone()), ("b", b.clone())]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("schema `Thing` has 2 shapes, from a and b"), "{problems:?}");
        assert!(problems[1].starts_with("GET /things (a) answers `Thing`"), "{problems:?}");
    }

    #[test]
    fn one_shape_under_one_name_is_fine() {
        let a = doc(json!({"type": "object", "required": ["id"]}));
        assert!(clashes(&a, &[("a", a.clone()), ("b", a.clone())]).is_empty());
    }
}
