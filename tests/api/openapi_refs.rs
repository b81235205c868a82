//! The served document as client generators read it: every `$ref` resolves, every component is
//! reachable from an operation, and the document names its server and states who may call
//! each operation. (A spec that only matched itself once shipped six dangling `$ref`s that
//! stopped openapi-typescript and made openapi-python-client skip four list operations.)
use serde_json::Value;
use std::collections::{BTreeSet, VecDeque};

fn spec() -> Value {
    serde_json::to_value(mejora::openapi::document()).unwrap()
}

/// Every `$ref` string found under `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Resolves a local reference (`#/components/schemas/X`) as a JSON pointer.
fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    spec.pointer(pointer)
}

#[test]
fn every_reference_in_the_document_resolves() {
    let spec = spec();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(found.len() > 100, "expected many references, found {}", found.len());
    let dangling: BTreeSet<&String> = found.iter().filter(|r| resolve(&spec, r).is_none()).collect();
    assert!(dangling.is_empty(), "dangling $refs (register the schema in components): {dangling:?}");
}

#[test]
fn every_component_is_used_by_some_operation() {
    let spec = spec();
    // Walk from the operations through the references they make, transitively.
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut start = Vec::new();
    refs(&spec["paths"], &mut start);
    queue.extend(start);
    while let Some(r) = queue.pop_front() {
        if !reached.insert(r.clone()) {
            continue;
        }
        if let Some(target) = resolve(&spec, &r) {
            let mut next = Vec::new();
            refs(target, &mut next);
            queue.extend(next);
        }
    }
    let mut unused = Vec::new();
    for kind in ["schemas", "responses", "parameters", "requestBodies", "headers", "links"] {
        for name in spec["components"][kind].as_object().into_iter().flatten().map(|(k, _)| k) {
            let pointer = format!("#/components/{kind}/{}", name.replace('~', "~0").replace('/', "~1"));
            if !reached.contains(&pointer) {
                unused.push(pointer);
            }
        }
    }
    assert!(unused.is_empty(), "components no operation uses: {unused:?}");
    // Security schemes named by operations exist, and every defined one is used.
    let defined: BTreeSet<&String> =
        spec["components"]["securitySchemes"].as_object().into_iter().flatten().map(|(k, _)| k).collect();
    let mut named = BTreeSet::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for requirement in op["security"].as_array().into_iter().flatten() {
                named.extend(requirement.as_object().unwrap().keys());
            }
        }
    }
    assert_eq!(defined, named, "security schemes defined vs used");
}

#[test]
fn every_operation_states_its_security_and_the_document_its_server() {
    let spec = spec();
    assert_eq!(spec["servers"][0]["url"], "/", "the document names no server");
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["security"].is_array(), "{method} {path} leaves its security unstated");
        }
    }
}

#[test]
fn list_pages_reference_their_item_schema() {
    let spec = spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let pages: Vec<_> = schemas.iter().filter(|(name, _)| name.starts_with("Page_")).collect();
    assert!(pages.len() >= 10);
    for (name, page) in pages {
        let item = name.trim_start_matches("Page_");
        assert_eq!(
            page["properties"]["items"]["items"]["$ref"],
            format!("#/components/schemas/{item}"),
            "{name} copies its item schema instead of referencing it"
        );
    }
}

#[test]
fn binary_bodies_are_binary_strings() {
    let spec = spec();
    let mut bad = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut contents = vec![&op["requestBody"]["content"]];
            for response in op["responses"].as_object().into_iter().flatten().map(|(_, r)| r) {
                contents.push(&response["content"]);
            }
            for (media, content) in contents.into_iter().filter_map(Value::as_object).flatten() {
                // Uploads are files of bytes (a CSV may be Windows-1252), not text the client re-encodes.
                let upload = media == "text/csv" && op["requestBody"]["content"].get(media.as_str()).is_some();
                let binary = media == "application/octet-stream" || media.contains("spreadsheetml") || upload;
                let schema = match content["schema"]["$ref"].as_str() {
                    Some(r) => resolve(&spec, r).unwrap(),
                    None => &content["schema"],
                };
                if binary && (schema["type"] != "string" || schema["format"] != "binary") {
                    bad.push(format!("{method} {path} {media}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "binary bodies described as something else: {bad:?}");
}

#[test]
fn links_name_existing_operations_and_their_parameters() {
    let spec = spec();
    let mut operations = std::collections::BTreeMap::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            operations.insert(op["operationId"].as_str().unwrap().to_string(), op);
        }
    }
    let mut links = 0;
    for (from, op) in &operations {
        for response in op["responses"].as_object().unwrap().values() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                let to = link["operationId"].as_str().unwrap();
                let target = operations.get(to).unwrap_or_else(|| panic!("{from} link {name}: no operation {to}"));
                for parameter in link["parameters"].as_object().into_iter().flatten().map(|(k, _)| k) {
                    let (place, bare) = parameter.split_once('.').unwrap_or(("path", parameter));
                    let known = target["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["name"] == bare && p["in"] == place);
                    assert!(known, "{from} link {name}: {to} has no {place} parameter {bare}");
                }
                if let Some(body) = link["requestBody"].as_object() {
                    let schema = &target["requestBody"]["content"]["application/json"]["schema"];
                    let schema = resolve(&spec, schema["$ref"].as_str().unwrap()).unwrap();
                    for field in body.keys() {
                        assert!(schema["properties"][field].is_object(), "{from} link {name}: {to} takes no {field}");
                    }
                }
            }
        }
    }
    assert!(links >= 15, "the plan → category → action → evidence links are missing ({links})");
}
