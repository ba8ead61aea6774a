//! Tests that `summary.json` matches its committed JSON Schema (`docs/summary.schema.json`),
//! so a field changed in code without the schema (or the reverse) fails here, not in a user's
//! pipeline. No schema-validator crate: a small validator covering the keywords the schema
//! uses (type, const, enum, required, properties, additionalProperties, items, anyOf, $ref,
//! minimum, maximum).

use serde_json::Value;

use super::fixture;
use super::summary::Summary;

const SCHEMA: &str = include_str!("../../docs/summary.schema.json");

/// Every violation, as `path: problem`.
pub fn validate(schema: &Value, root: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = r.strip_prefix("#/").and_then(|p| p.split('/').try_fold(root, |v, k| v.get(k)));
        match target {
            Some(t) => validate(t, root, value, path, errors),
            None => errors.push(format!("{path}: unresolved $ref {r}")),
        }
        return;
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = options.iter().any(|o| {
            let mut e = Vec::new();
            validate(o, root, value, path, &mut e);
            e.is_empty()
        });
        if !fits {
            errors.push(format!("{path}: matches none of anyOf"));
        }
        return;
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "number" => value.is_number(),
            "integer" => value.is_u64() || value.is_i64(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{path}: expected {types:?}, got {value}"));
            return;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            errors.push(format!("{path}: expected {c}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{path}: {value} not in {options:?}"));
        }
    }
    if let (Some(min), Some(v)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
        if v < min {
            errors.push(format!("{path}: {v} < {min}"));
        }
    }
    if let (Some(max), Some(v)) = (schema.get("maximum").and_then(Value::as_f64), value.as_f64()) {
        if v > max {
            errors.push(format!("{path}: {v} > {max}"));
        }
    }
    if let Some(obj) = value.as_object() {
        for key in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(key) {
                errors.push(format!("{path}: missing required {key}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in obj {
            let sub = format!("{path}.{k}");
            match (props.and_then(|p| p.get(k)), schema.get("additionalProperties")) {
                (Some(s), _) => validate(s, root, v, &sub, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{sub}: not in the schema")),
                (None, Some(s @ Value::Object(_))) => validate(s, root, v, &sub, errors),
                _ => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            validate(items, root, v, &format!("{path}[{i}]"), errors);
        }
    }
}

fn check(summary: &Summary) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    let value = serde_json::to_value(summary).unwrap();
    let mut errors = Vec::new();
    validate(&schema, &schema, &value, "$", &mut errors);
    errors
}

fn analysed(mut s: Summary) -> Summary {
    s.saturation = Some(super::analyze(&s, &Default::default()));
    s
}

#[test]
fn summaries_match_the_committed_schema() {
    for (name, s) in [
        ("saturating", analysed(fixture::saturating())),
        ("calm", analysed(fixture::calm())),
        ("empty", analysed(fixture::empty())),
        ("without analysis", fixture::saturating()),
    ] {
        let errors = check(&s);
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
    }
}

#[test]
fn the_validator_notices_drift() {
    let mut value = serde_json::to_value(analysed(fixture::calm())).unwrap();
    value["requests"]["sent"] = Value::String("many".into());
    value["run"].as_object_mut().unwrap().remove("elapsed_s");
    value["extra"] = Value::Bool(true);
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let mut errors = Vec::new();
    validate(&schema, &schema, &value, "$", &mut errors);
    assert_eq!(errors.len(), 3, "{errors:?}");
}
