//! Synthetic manifests of any size: every field type and option, every key kind, and relations that
//! form the shapes real schemas have — self-references, cycles, two tables pointing at each other,
//! several relations between the same two models, many-to-many with and without a join model.
//!
//! The same seed gives the same manifest on every machine. The build tests compile a few seeds and
//! a 150-model manifest; `bench/compile-time.sh` builds sizes up to 500 models.

use std::fmt::Write;

/// A small deterministic generator (SplitMix64): manifests must not change between runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Words model names are made of, so names read like an application's (`Invoice12`).
const WORDS: &[&str] = &[
    "Account",
    "Invoice",
    "Order",
    "Product",
    "Shipment",
    "Customer",
    "Ticket",
    "Project",
    "Task",
    "Comment",
    "Token",
    "Session",
    "Workflow",
    "State",
    "Document",
    "Folder",
    "Payment",
    "Refund",
    "Coupon",
    "Review",
    "Vendor",
    "Region",
    "Warehouse",
    "Stock",
    "Campaign",
    "Event",
    "Device",
    "Reading",
    "Policy",
    "Claim",
];

/// What a model's key is: it decides what its foreign keys and join tables look like.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    Auto,
    BigAuto,
    Uuid,
    Text,
    /// A one-to-one primary key extending an earlier model.
    Extends(usize),
}

/// A manifest of `models` models (at least 2) drawn from `seed`.
pub fn manifest(models: usize, seed: u64) -> String {
    let models = models.max(2);
    let mut rng = Rng(seed ^ 0x5EED);
    let names: Vec<String> = (0..models).map(|i| format!("{}{i}", WORDS[i % WORDS.len()])).collect();
    let keys: Vec<Key> = (0..models)
        .map(|i| match rng.below(20) {
            0..=11 => Key::Auto,
            12..=13 => Key::BigAuto,
            14..=15 => Key::Uuid,
            16..=17 => Key::Text,
            _ if i > 0 => Key::Extends(rng.below(i)),
            _ => Key::Auto,
        })
        .collect();
    let mut out = format!(
        "# Synthetic manifest: {models} models, seed {seed}.\nversion: 1\nname: synthetic-{models}-{seed}\napi: {{ max_depth: 12 }}\n\
         roles:\n  anonymous: {{}}\n  member: {{ description: Signed-in users. }}\n  admin: {{ all: true }}\nmodels:\n"
    );
    for i in 0..models {
        model(&mut out, &mut rng, i, &names, &keys);
    }
    out
}

fn model(out: &mut String, rng: &mut Rng, i: usize, names: &[String], keys: &[Key]) {
    let name = &names[i];
    let models = names.len();
    let _ = writeln!(out, "  {name}:");
    if rng.chance(30) {
        let _ = writeln!(out, "    description: \"Model {i}: \\\"quoted\\\", with a backslash \\\\ and {{{{ braces }}}}.\"");
    }
    let _ = writeln!(out, "    fields:");
    match keys[i] {
        Key::Auto => out.push_str("      id: auto\n"),
        Key::BigAuto => out.push_str("      id: big_auto\n"),
        Key::Uuid => out.push_str("      id: { type: uuid, primary_key: true, default: uuid }\n"),
        Key::Text => out.push_str("      code: { type: string, max_length: 24, primary_key: true }\n"),
        Key::Extends(t) => {
            let _ = writeln!(
                out,
                "      base: {{ type: one_to_one, to: {}, on_delete: cascade, primary_key: true, related_name: ext_{i} }}",
                names[t]
            );
        }
    }
    // Scalars: always a name, then a spread of types and options.
    out.push_str("      name: { type: string, max_length: 80 }\n");
    let mut text_fields = vec!["name".to_string()];
    let mut orderable = vec!["name".to_string()];
    let mut integers = Vec::new();
    let mut keyword_column = false;
    for n in 0..rng.below(7) + 1 {
        let field = format!("f{n}");
        let nullable = rng.chance(30);
        let mut opts = Vec::new();
        let ty = match rng.below(17) {
            0 => {
                integers.push(field.clone());
                opts.push(format!("min: 0, max: {}", 1000 + rng.below(1000)));
                "integer"
            }
            1 => "big_integer",
            2 => "float",
            3 => {
                opts.push("max_digits: 12, decimal_places: 2".into());
                "decimal"
            }
            4 => "boolean",
            5 => {
                text_fields.push(field.clone());
                "text"
            }
            6 => "email",
            7 => "url",
            8 => "slug",
            9 => "date",
            10 => "datetime",
            11 => "time",
            12 => "uuid",
            13 => "json",
            14 => {
                opts.push("values: [draft, active, closed]".into());
                "enum"
            }
            _ => {
                text_fields.push(field.clone());
                opts.push(format!("max_length: {}", 20 + rng.below(200)));
                "string"
            }
        };
        if !nullable && rng.chance(40) {
            if let Some(default) = default_of(ty) {
                opts.push(format!("default: {default}"));
            }
        }
        if nullable {
            opts.push("nullable: true".into());
        }
        if rng.chance(10) && !matches!(ty, "json" | "text") {
            opts.push("unique: true".into());
        } else if rng.chance(10) {
            opts.push("indexed: true".into());
        }
        if rng.chance(10) {
            opts.push("deprecated: \"Use name.\"".into());
        }
        if rng.chance(10) && ty == "integer" && !keyword_column {
            keyword_column = true;
            // A column named by a Rust keyword.
            opts.push("column: type".into());
        }
        if ty != "json" && ty != "decimal" {
            orderable.push(field.clone());
        }
        let _ = writeln!(out, "      {field}: {{ type: {ty}{}{} }}", if opts.is_empty() { "" } else { ", " }, opts.join(", "));
    }
    // Relations: targets anywhere in the manifest (so cycles and forward references), the model
    // itself, twice the same target, and a pair of tables pointing at each other.
    let mut relations = 0;
    let mut fk = |out: &mut String, rng: &mut Rng, target: usize, one: bool, required_ok: bool| {
        let nullable = !required_ok || rng.chance(50);
        let on_delete =
            if nullable { *rng.pick(&["set_null", "cascade", "restrict"]) } else { *rng.pick(&["cascade", "protect", "restrict"]) };
        let kind = if one { "one_to_one" } else { "foreign_key" };
        let related = if rng.chance(80) { format!(", related_name: r{i}_{relations}") } else { String::new() };
        let _ = writeln!(
            out,
            "      link{relations}: {{ type: {kind}, to: {}, on_delete: {on_delete}{}{related} }}",
            names[target],
            if nullable { ", nullable: true" } else { "" }
        );
        relations += 1;
    };
    // Required keys point backwards only, so rows can be created in manifest order.
    if i > 0 {
        let target = rng.below(i);
        fk(out, rng, target, false, true);
        if rng.chance(30) {
            fk(out, rng, target, false, true);
        }
    }
    if rng.chance(40) {
        let (target, one) = (rng.below(models), rng.chance(20));
        fk(out, rng, target, one, false);
    }
    if rng.chance(15) {
        fk(out, rng, i, false, false);
    }
    // Mutual one-to-ones: even models point at the next one, which points back.
    if i.is_multiple_of(2) && i + 1 < models {
        fk(out, rng, i + 1, true, false);
    } else if i % 2 == 1 {
        fk(out, rng, i - 1, true, false);
    }
    if rng.chance(25) {
        let target = rng.below(models);
        let related = if rng.chance(70) { format!(", related_name: m{i}_tags") } else { String::new() };
        let _ = writeln!(out, "      tags: {{ type: many_to_many, to: {}{related} }}", names[target]);
    }
    if rng.chance(30) && orderable.len() > 1 {
        let _ = writeln!(out, "    ordering: [-{}, name]", orderable[1]);
    }
    let integer_key = matches!(keys[i], Key::Auto | Key::BigAuto);
    if integer_key && rng.chance(25) {
        let _ = writeln!(out, "    search: [{}]", text_fields.join(", "));
    }
    if let Some(f) = integers.first() {
        if rng.chance(50) {
            let _ = writeln!(out, "    checks:\n      - {{ rule: \"{f} >= 0\" }}");
        }
    }
    if orderable.len() > 2 && rng.chance(20) {
        let _ = writeln!(out, "    unique_together:\n      - [{}, {}]", orderable[1], orderable[2]);
    }
    permissions(out, rng, i, &text_fields);
}

/// Grants of the synthetic roles: `anonymous` reads some models (all rows, some fields, or rows
/// by a condition), `member` reads rows by conditions through relations and claims and writes
/// some; `admin` may do everything (declared once, on the role).
fn permissions(out: &mut String, rng: &mut Rng, i: usize, text_fields: &[String]) {
    out.push_str("    permissions:\n");
    match (i, rng.below(4)) {
        (0, _) | (_, 0) => out.push_str("      anonymous: { read: true }\n"),
        (_, 1) => out.push_str("      anonymous: { read: { columns: [name] } }\n"),
        (_, 2) => out.push_str("      anonymous: { read: { where: { name: { startsWith: a } } } }\n"),
        _ => {}
    }
    let own = "{ name: { eq: { claim: sub } } }";
    let read = match (i > 0, rng.below(3)) {
        (true, 0) => format!("{{ where: {{ or: [{own}, {{ link0: {{ name: {{ isNull: false }} }} }}] }} }}"),
        (_, 1) => format!("{{ where: {{ not: {own} }} }}"),
        _ => "true".to_string(),
    };
    let _ = writeln!(out, "      member:\n        read: {read}");
    if rng.chance(50) {
        let _ = writeln!(out, "        create: {{ check: {{ name: {{ ne: forbidden }} }} }}");
    }
    if rng.chance(50) {
        let _ = writeln!(out, "        update: {{ where: {own}, columns: [{}] }}", text_fields.join(", "));
    }
    if rng.chance(30) {
        let _ = writeln!(out, "        delete: {{ where: {own} }}");
    }
}

/// A literal default for a field of `ty`, if the type takes one.
fn default_of(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "integer" => "5",
        "big_integer" => "0",
        "float" => "0.5",
        "decimal" => "\"1.50\"",
        "boolean" => "true",
        "text" | "string" => "\"none\"",
        "date" | "datetime" | "time" => "now",
        "uuid" => "uuid",
        "json" => "{ a: [1, 2] }",
        "enum" => "draft",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_manifest() {
        assert_eq!(manifest(40, 3), manifest(40, 3));
        assert_ne!(manifest(40, 3), manifest(40, 4));
    }

    #[test]
    fn synthetic_manifests_validate_with_their_permissions() {
        for seed in 1..8 {
            let text = manifest(60, seed);
            let checked = crate::api::check_source("synthetic.yaml", text, crate::manifest::Format::Yaml);
            assert!(checked.diagnostics.is_empty(), "seed {seed}: {}", checked.render(crate::api::DiagFormat::Short));
            let ir = checked.ir.expect("valid");
            assert_eq!(ir.roles.len(), 3);
            assert!(ir.models.iter().all(|m| m.permission("admin").is_some() && m.permission("member").is_some()));
        }
    }
}
