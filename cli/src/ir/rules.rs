//! Row conditions (a grant's `where` in the API's language, as JSON) taken apart: what the diff
//! compares, and what the generator uses to skip conditions a relation already guarantees.

use serde_json::Value;

/// Operators by the kind of value they compare (as the API's filter inputs declare them).
pub const EQUALITY: &[&str] = &["eq", "ne", "in", "notIn", "isNull"];
pub const ORDER: &[&str] = &["lt", "lte", "gt", "gte"];
pub const TEXT: &[&str] = &["contains", "icontains", "startsWith", "endsWith", "iexact"];
pub const JSON: &[&str] = &["hasKey", "isNull"];
/// What a to-many relation's condition starts with.
pub const QUANTIFIERS: &[&str] = &["some", "every", "none"];

/// The conditions that must all hold, flattened from `and` lists and keys of one map.
pub fn conjuncts(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(map) if map.len() == 1 && map.contains_key("and") => match &map["and"] {
            Value::Array(items) => items.iter().flat_map(conjuncts).collect(),
            one => conjuncts(one),
        },
        Value::Object(map) if map.len() > 1 => map.iter().flat_map(|(k, v)| conjuncts(&serde_json::json!({ k.clone(): v }))).collect(),
        // Several operators on one field must all hold too.
        Value::Object(map) if map.len() == 1 => {
            let (field, ops) = map.iter().next().expect("one entry");
            match ops {
                Value::Object(ops) if ops.len() > 1 && !["and", "or", "not"].contains(&field.as_str()) => {
                    ops.iter().map(|(op, x)| serde_json::json!({ field.clone(): { op.clone(): x } })).collect()
                }
                _ => vec![v.clone()],
            }
        }
        _ => vec![v.clone()],
    }
}

/// The alternatives of an `or`, flattened.
pub fn disjuncts(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(map) if map.len() == 1 && map.contains_key("or") => match &map["or"] {
            Value::Array(items) => items.iter().flat_map(disjuncts).collect(),
            one => disjuncts(one),
        },
        _ => vec![v.clone()],
    }
}

/// One way of writing `v`, so that conditions that differ only in the order of their
/// conjuncts or alternatives, or in repeating a to-one path in each alternative
/// (`or: [{post: A}, {post: B}]` for `post: {or: [A, B]}`), compare equal.
pub fn canonical(v: &Value) -> Value {
    let mut parts: Vec<Value> = conjuncts(v).iter().map(canonical_part).collect();
    parts.sort_by_key(Value::to_string);
    parts.dedup();
    match parts.len() {
        1 => parts.remove(0),
        _ => serde_json::json!({ "and": parts }),
    }
}

fn canonical_part(v: &Value) -> Value {
    let Value::Object(map) = v else { return v.clone() };
    let Some((key, inner)) = map.iter().next().filter(|_| map.len() == 1) else { return v.clone() };
    match key.as_str() {
        "or" => {
            let mut items: Vec<Value> = disjuncts(v).iter().map(canonical).collect();
            items.sort_by_key(Value::to_string);
            items.dedup();
            // Every alternative through the same path: the path once, the alternatives inside.
            let path = |item: &Value| match item {
                Value::Object(m) if m.len() == 1 => {
                    m.iter().next().filter(|(k, v)| !["and", "or", "not"].contains(&k.as_str()) && is_condition(v)).map(|(k, _)| k.clone())
                }
                _ => None,
            };
            let first = items.first().and_then(path);
            if let Some(name) = first.filter(|name| items.len() > 1 && items.iter().all(|i| path(i).as_ref() == Some(name))) {
                let inner: Vec<Value> = items.iter().map(|i| i[name.as_str()].clone()).collect();
                return serde_json::json!({ name: canonical(&serde_json::json!({ "or": inner })) });
            }
            match items.len() {
                1 => items.remove(0),
                _ => serde_json::json!({ "or": items }),
            }
        }
        "not" => serde_json::json!({ "not": canonical(inner) }),
        name if is_condition(inner) => serde_json::json!({ name: canonical(inner) }),
        _ => v.clone(),
    }
}

/// Whether `v` is a condition on related rows (`{status: {eq: ..}}`) rather than a field's
/// operators (`{eq: ..}`): a to-one path leads to another condition.
fn is_condition(v: &Value) -> bool {
    let operator = |k: &str| [EQUALITY, ORDER, TEXT, JSON, QUANTIFIERS].iter().any(|ops| ops.contains(&k));
    matches!(v, Value::Object(m) if !m.is_empty() && m.keys().all(|k| !operator(k)))
}

/// The condition left of `rule` (a child model's) for rows reached through the to-one relation
/// `relation` from rows the caller may read under `parent` (the related model's rule): when
/// `rule` requires `{relation: parent}` (as its whole or as one conjunct), that part holds
/// already and is dropped (`Some(None)`: nothing is left). `None`: no part can be dropped.
pub fn under(rule: &Value, relation: &str, parent: &Value) -> Option<Option<Value>> {
    let needed = canonical(&serde_json::json!({ relation: parent }));
    let parts = conjuncts(&canonical(rule));
    if !parts.contains(&needed) {
        return None;
    }
    let rest: Vec<Value> = parts.into_iter().filter(|p| *p != needed).collect();
    Some(match rest.len() {
        0 => None,
        1 => rest.into_iter().next(),
        _ => Some(serde_json::json!({ "and": rest })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_child_rule_that_repeats_its_parent_s_needs_nothing_more_under_it() {
        let published = json!({"status": {"eq": "PUBLISHED"}});
        let own = json!({"author": {"id": {"eq": {"claim": "sub"}}}});
        let parent = json!({"or": [published, own]});
        // Written per alternative or once, in any order.
        let child = json!({"or": [{"post": own}, {"post": published}]});
        assert_eq!(under(&child, "post", &parent), Some(None));
        assert_eq!(under(&json!({"post": parent}), "post", &parent), Some(None));
        // Other conjuncts stay.
        let tenant = json!({"org": {"id": {"eq": {"claim": "org_id"}}}});
        let both = json!({"and": [{"post": published}, tenant]});
        assert_eq!(under(&both, "post", &published), Some(Some(tenant.clone())));
        // A weaker or different requirement on the parent drops nothing.
        assert_eq!(under(&json!({"post": published}), "post", &parent), None);
        assert_eq!(under(&json!({"post": parent}), "topic", &parent), None);
        assert_eq!(under(&tenant, "post", &published), None);
        // Operators are not paths.
        assert_eq!(
            canonical(&json!({"or": [{"rank": {"gt": 1}}, {"rank": {"lt": 0}}]})),
            json!({"or": [{"rank": {"gt": 1}}, {"rank": {"lt": 0}}]})
        );
    }
}
