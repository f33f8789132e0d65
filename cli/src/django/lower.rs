//! A Django dump lowered into a manifest: readable YAML the user edits afterwards, in which what
//! could not be mapped stays as a commented entry with its reason, and every lossy decision is also
//! a warning naming the Django model and field.
//!
//! Tables, columns and join tables keep the names Django gave them, so the generated server reads
//! the Django database as it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::dump::{Dump, Field, Model};
use crate::ir::names;

/// One lossy or skipped mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// `app.Model`, or `app.Model.field`.
    pub at: String,
    pub message: String,
}

/// The manifest text and what was lost on the way.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub yaml: String,
    pub warnings: Vec<Warning>,
    pub models: usize,
    pub fields: usize,
    /// Where each entry begins in `yaml` (a byte offset), and what it is: `app.Model`,
    /// `app.Model.field` or `app.Model:option`, in the order written.
    origins: Vec<(usize, String)>,
}

impl Lowered {
    /// The entry the 1-based `line` of the YAML belongs to: the last one that begins at or before it.
    fn origin_of(&self, line: usize) -> Option<&str> {
        let offset: usize = self.yaml.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
        self.origins.iter().take_while(|(at, _)| *at <= offset).last().map(|(_, key)| key.as_str())
    }
}

/// A field as one manifest entry, or the reason it stays a comment.
pub(super) enum Entry {
    Field { name: String, options: Vec<(String, String)> },
    Skipped { name: String, why: String },
}

pub(super) struct Lowering<'a> {
    pub(super) dump: &'a Dump,
    /// `app.Model` → manifest model name, for every model that gets one.
    pub(super) names: BTreeMap<String, String>,
    pub(super) warnings: Vec<Warning>,
    /// Entries left out because the manifest would not validate with them, and why.
    pub(super) excluded: &'a BTreeMap<String, String>,
    /// `app.Model` → why it is not imported.
    pub(super) skipped: BTreeMap<String, String>,
    /// Where each entry begins in the YAML being written, and what it is (see [`Lowered`]).
    pub(super) origins: Vec<(usize, String)>,
}

/// Lowers a dump; `name` is the manifest's `name`. The manifest always validates: an entry the
/// validator refuses (a model, a field, an ordering or constraint list) is left out as a comment
/// with the validator's reason and a warning, and the rest lowered again, until nothing is refused.
/// What depends on a model left out (relations to it) goes with it, and nothing else does.
pub fn lower(dump: &Dump, name: &str) -> Lowered {
    let mut excluded = BTreeMap::new();
    loop {
        let lowered = lower_excluding(dump, name, &excluded);
        let checked = crate::api::check_source("gqlauto.yaml", lowered.yaml.clone(), crate::manifest::Format::Yaml);
        let mut progressed = false;
        for d in checked.diagnostics.iter().filter(|d| d.severity == crate::diag::Severity::Error) {
            let Some(key) = d.span.and_then(|s| lowered.origin_of(s.line)) else { continue };
            // A default the validator refuses goes alone: the field stays, required.
            let key = if d.code == crate::diag::Code::BadDefault { format!("{key}:default") } else { key.to_string() };
            if let std::collections::btree_map::Entry::Vacant(entry) = excluded.entry(key) {
                entry.insert(format!("the manifest would not validate with it ({}: {})", d.code.as_str(), d.message));
                progressed = true;
            }
        }
        // Refusals outside any entry, or of entries already left out, are the importer's own
        // defects: the caller validates once more and reports them.
        if !progressed {
            return lowered;
        }
    }
}

fn lower_excluding(dump: &Dump, name: &str, excluded: &BTreeMap<String, String>) -> Lowered {
    let mut l = Lowering { dump, names: BTreeMap::new(), warnings: Vec::new(), excluded, skipped: BTreeMap::new(), origins: Vec::new() };
    for w in &dump.warnings {
        let at = w.field.as_ref().map_or(w.model.clone(), |f| format!("{}.{f}", w.model));
        l.warn(&at, &w.message);
    }
    if let Some(other) = dump.database_vendor.as_deref().filter(|v| !["sqlite", "postgresql"].contains(v)) {
        l.warn(
            "DATABASES['default']",
            &format!("the project's database is {other}: the generated server runs on SQLite and PostgreSQL only, so serve a copy of the data in one of them"),
        );
    }
    let kept: Vec<&Model> = dump.models.iter().filter(|m| l.keep(m)).collect();
    l.name_models(&kept);
    let mut yaml = String::new();
    let _ = writeln!(yaml, "# Imported by `gqlauto init --from-django` from the Django project with settings `{}`", dump.settings);
    let _ = writeln!(yaml, "# (Django {}). Tables and columns keep Django's names. Edit freely; entries that could", dump.django);
    let _ = writeln!(yaml, "# not be mapped are commented out with the reason.");
    let _ = writeln!(yaml, "version: 1");
    let _ = writeln!(yaml, "name: {}", json(name));
    // Django stores a UUIDField as 32 hex digits everywhere but PostgreSQL (which has a uuid type).
    let _ = writeln!(yaml, "database:");
    if dump.database_vendor.as_deref() == Some("postgresql") {
        let _ = writeln!(yaml, "  engine: postgres # the project's tables are in PostgreSQL, in its native types");
    } else {
        let _ = writeln!(yaml, "  uuid_format: simple # Django's char(32) UUIDs");
        let _ = writeln!(yaml, "  datetime_format: django # Django's date-times: UTC, no offset");
        let _ = writeln!(yaml, "  json_format: django # Django's JSON text, as json.dumps writes it");
    }
    let _ = writeln!(yaml, "models:");
    let mut fields = 0;
    // Every model is kept or skipped (`keep` says which), in the dump's order.
    for m in &dump.models {
        match l.skipped.get(&m.label) {
            Some(why) => {
                let _ = writeln!(yaml, "\n  # {} (table {}): skipped: {}", m.label, m.db_table, one_line(why));
            }
            None => fields += l.model(m, &mut yaml),
        }
    }
    Lowered { yaml, warnings: l.warnings, models: kept.len(), fields, origins: l.origins }
}

/// A reason as one comment line.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A YAML scalar: JSON's quoting is valid YAML.
pub(super) fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl Lowering<'_> {
    pub(super) fn warn(&mut self, at: &str, message: &str) {
        self.warnings.push(Warning { at: at.to_string(), message: message.to_string() });
    }

    /// Models with a table of their own and a key gqlauto can serve.
    fn keep(&mut self, m: &Model) -> bool {
        if let Some(why) = skip_reason(self.dump, self.excluded, m, 0) {
            self.warn(&m.label, &format!("skipped: {why}"));
            self.skipped.insert(m.label.clone(), why);
            return false;
        }
        if let Some((pk, r)) = key_link(m).filter(|(_, r)| r.parent_link) {
            let what = format!(
                "multi-table inheritance: `{}` is the key and the link to the {} row it extends, whose fields stay there",
                pk.name, r.to
            );
            self.warn(&m.label, &what);
        }
        true
    }

    /// Class names, prefixed with the app's name where two apps share one, it is reserved, or it is
    /// the name of a type the API defines for another model (`AttributeOptionGroup` beside the
    /// group-by type of `AttributeOption`).
    fn name_models(&mut self, kept: &[&Model]) {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        let mut derived: BTreeMap<String, &str> = BTreeMap::new();
        // A class name that is not PascalCase (django-simple-history's `HistoricalFlatPage_sites`)
        // in the form the API names types, the table kept.
        let plains: BTreeMap<&str, String> = kept.iter().map(|m| (m.label.as_str(), pascal_name(&m.name))).collect();
        // Root fields share one namespace: `periodicTasks` lists `PeriodicTask` and reads one
        // `PeriodicTasks`.
        let mut roots: BTreeMap<String, Vec<(&str, bool)>> = BTreeMap::new();
        for m in kept {
            let plain = &plains[m.label.as_str()];
            *count.entry(plain.as_str()).or_default() += 1;
            for ty in names::model_types(plain).skip(1) {
                derived.insert(ty, plain.as_str());
            }
            let snake = names::to_snake(plain);
            for (field, _, _, singular) in names::root_field_names(&snake, &names::pluralize(&snake)) {
                let owners = roots.entry(field).or_default();
                if !owners.iter().any(|(o, _)| o == plain) {
                    owners.push((plain.as_str(), singular));
                }
            }
        }
        // The model to rename when two share a root field: the one that names it by its singular
        // (`PeriodicTasks`, not `PeriodicTask`), or both when both name it alike.
        let root_clash = |plain: &str| -> Option<String> {
            roots.values().filter(|owners| owners.len() > 1).find_map(|owners| {
                let (_, mine) = *owners.iter().find(|(o, _)| *o == plain)?;
                let (other, theirs) = *owners.iter().find(|(o, _)| *o != plain)?;
                (mine || !theirs).then(|| format!("its root fields would clash with those of model `{other}`"))
            })
        };
        for m in kept {
            let plain = plains[m.label.as_str()].clone();
            if plain != m.name {
                self.warn(&m.label, &format!("named `{plain}`: `{}` is not PascalCase; the table is kept", m.name));
            }
            let why = if count[plain.as_str()] > 1 {
                Some("another app has a model of the same name".to_string())
            } else if names::reserved_type_name(&plain).is_some() {
                Some("the name is reserved in the generated API".to_string())
            } else {
                derived.get(&plain).map(|owner| format!("the API names a type of model `{owner}` `{plain}`")).or_else(|| root_clash(&plain))
            };
            let name = if why.is_some() { format!("{}{plain}", pascal(&m.app)) } else { plain.clone() };
            if let Some(why) = why {
                self.warn(&m.label, &format!("named `{name}`: {why}"));
            }
            self.names.insert(m.label.clone(), name);
        }
    }
}

/// Why a model cannot be imported, if it cannot. A key that links to another model's row (multi-table
/// inheritance, `OneToOneField(primary_key=True)`) is served only if that model is, through chains
/// of such links; `depth` stops a cycle of them.
pub(super) fn skip_reason(dump: &Dump, excluded: &BTreeMap<String, String>, m: &Model, depth: usize) -> Option<String> {
    if let Some(why) = excluded.get(&m.label) {
        return Some(why.clone());
    }
    if let Some(to) = &m.swapped {
        return Some(format!("swapped for {to} (AUTH_USER_MODEL)"));
    }
    if m.proxy {
        let parent = m.parents.first().map_or("its parent".to_string(), |p| p.model.clone());
        return Some(format!("a proxy model has no table of its own; its rows are {parent}'s"));
    }
    let Some(pk) = m.fields.iter().find(|f| Some(&f.name) == m.pk.as_ref()) else {
        return Some("no primary key in the dump".into());
    };
    if pk_type(pk).is_some() {
        return None;
    }
    let Some((_, r)) = key_link(m) else {
        return Some(format!(
            "its primary key `{}` is a {}; gqlauto keys are auto, big_auto, uuid, string, integer or a one-to-one link",
            pk.name, pk.internal_type
        ));
    };
    let target = dump.models.iter().find(|t| t.label == r.to);
    let target_kept = depth < dump.models.len() && target.is_some_and(|t| skip_reason(dump, excluded, t, depth + 1).is_none());
    (!target_kept).then(|| format!("its key `{}` links to {}, which is not imported", pk.name, r.to))
}

/// The primary key and its relation, when the key is a one-to-one link to another model's row.
pub(super) fn key_link(m: &Model) -> Option<(&Field, &super::dump::Relation)> {
    let pk = m.fields.iter().find(|f| Some(&f.name) == m.pk.as_ref())?;
    pk.relation.as_ref().filter(|r| r.one_to_one).map(|r| (pk, r))
}

/// The manifest type of a primary key, if gqlauto can serve it.
pub(super) fn pk_type(f: &Field) -> Option<&'static str> {
    match f.internal_type.as_str() {
        "AutoField" | "SmallAutoField" => Some("auto"),
        "BigAutoField" => Some("big_auto"),
        "UUIDField" if f.relation.is_none() => Some("uuid"),
        "CharField" | "SlugField" if f.relation.is_none() => Some("string"),
        // A number the project's code gives each row (no sequence numbers it).
        "IntegerField" | "SmallIntegerField" | "PositiveIntegerField" | "PositiveSmallIntegerField" if f.relation.is_none() => {
            Some("integer")
        }
        "BigIntegerField" | "PositiveBigIntegerField" if f.relation.is_none() => Some("big_integer"),
        _ => None,
    }
}

/// The reverse side's name: the one the project gives, else the one Django derives (`product_set`);
/// none for a hidden one (`+`).
pub(super) fn reverse_name<'a>(related_name: &'a Option<String>, accessor: &'a Option<String>) -> Option<&'a String> {
    match related_name {
        Some(rn) if rn.ends_with('+') => None,
        Some(rn) => Some(rn),
        None => accessor.as_ref().filter(|a| !a.ends_with('+')),
    }
}

/// A Django field name as a manifest field name: leading underscores dropped, reserved words suffixed.
pub(super) fn field_name(name: &str) -> String {
    let trimmed = name.trim_start_matches('_');
    let base = if trimmed.is_empty() { "field" } else { trimmed };
    if names::reserved_field_name(base).is_some() || names::reserved_column_name(base).is_some() {
        format!("{base}_value")
    } else {
        base.to_string()
    }
}

pub(super) fn is_enum_value(v: &str) -> bool {
    let mut chars = v.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A class name in PascalCase: parts after underscores capitalized and joined
/// (`HistoricalFlatPage_sites` -> `HistoricalFlatPageSites`).
pub(super) fn pascal_name(name: &str) -> String {
    let joined = pascal(name);
    if names::is_pascal_ident(&joined) {
        joined
    } else {
        name.to_string()
    }
}

pub(super) fn pascal(s: &str) -> String {
    s.split('_').filter(|p| !p.is_empty()).map(|p| p[..1].to_uppercase() + &p[1..]).collect()
}

/// Whether a field holds a secret no API caller should read: password hashes, tokens, keys and
/// secrets (by name, as Django's own and well-known apps name them), and session contents.
pub(super) fn secret(model: &str, field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    let named = |word: &str| f == word || f.ends_with(&format!("_{word}")) || f.starts_with(&format!("{word}_"));
    ["password", "passwd", "secret", "token", "api_key", "private_key", "secret_key", "otp_seed"].iter().any(|w| named(w))
        || (model == "sessions.Session" && f == "session_data")
        || (model == "authtoken.Token" && f == "key")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, internal_type: &str, relation: Option<serde_json::Value>) -> serde_json::Value {
        serde_json::json!({
            "name": name, "column": if relation.is_some() { format!("{name}_id") } else { name.to_string() },
            "class": format!("django.db.models.{internal_type}"), "internal_type": internal_type,
            "primary_key": name == "key", "default": {"kind": "none"}, "max_length": 20, "relation": relation,
        })
    }

    fn model(name: &str, key: serde_json::Value) -> serde_json::Value {
        let label = format!("shop.{name}");
        serde_json::json!({
            "app": "shop", "name": name, "label": label, "db_table": format!("shop_{}", name.to_lowercase()), "pk": "key",
            "fields": [key, field("note", "CharField", None)],
        })
    }

    #[test]
    fn secrets_are_imported_hidden() {
        for (model, field) in [
            ("auth.User", "password"),
            ("oauth.App", "client_secret"),
            ("api.Device", "push_token"),
            ("sessions.Session", "session_data"),
            ("x.Y", "api_key"),
        ] {
            assert!(secret(model, field), "{model}.{field}");
        }
        for (model, field) in [("auth.User", "username"), ("shop.Item", "tokenizer_name"), ("shop.Item", "key"), ("blog.Post", "secretary")]
        {
            assert!(!secret(model, field), "{model}.{field}");
        }
        let dump: Dump = serde_json::from_value(serde_json::json!({
            "django": "5.2", "settings": "s", "auth_user_model": null, "database_vendor": "sqlite",
            "models": [{"app": "auth", "name": "User", "label": "auth.User", "db_table": "auth_user", "pk": "key",
                "fields": [field("key", "AutoField", None), field("password", "CharField", None)]}],
        }))
        .unwrap();
        let lowered = lower(&dump, "api");
        assert!(lowered.yaml.contains("hidden: true"), "{}", lowered.yaml);
        assert!(lowered.warnings.iter().any(|w| w.at == "auth.User.password" && w.message.contains("hidden")), "{:?}", lowered.warnings);
        let checked = crate::api::check_source("api.yaml", lowered.yaml, crate::manifest::Format::Yaml);
        let ir = checked.ir.expect("valid");
        let sdl = crate::codegen::roles::full_sdl(&ir, &crate::codegen::crate_view::crate_view(&ir));
        let block = |start: &str| sdl.split(start).nth(1).and_then(|rest| rest.split("\n}").next()).unwrap_or_default().to_string();
        assert!(!block("type User {").contains("password") && !block("input UserWhere {").contains("password"), "{sdl}");
        assert!(block("input CreateUserInput {").contains("password: String!"), "still written: {sdl}");
    }

    #[test]
    fn a_key_linking_to_a_skipped_model_skips_the_linking_model_too() {
        let link = |to: &str| Some(serde_json::json!({"to": to, "on_delete": "CASCADE", "one_to_one": true, "parent_link": true}));
        let dump: Dump = serde_json::from_value(serde_json::json!({
            "django": "5.2", "settings": "s", "auth_user_model": null, "database_vendor": "sqlite",
            "models": [
                model("Base", field("key", "AutoField", None)),
                model("Child", field("key", "OneToOneField", link("shop.Base"))),
                model("Grandchild", field("key", "OneToOneField", link("shop.Child"))),
                model("Dated", field("key", "DateField", None)),
                model("Orphan", field("key", "OneToOneField", link("shop.Dated"))),
                model("Loop", field("key", "OneToOneField", link("shop.Loop"))),
            ],
        }))
        .unwrap();
        let lowered = lower(&dump, "api");
        assert_eq!(lowered.models, 3, "Base, Child and Grandchild; {:?}", lowered.warnings);
        let skipped: Vec<&str> = lowered.warnings.iter().filter(|w| w.message.starts_with("skipped")).map(|w| w.at.as_str()).collect();
        assert_eq!(skipped, ["shop.Dated", "shop.Orphan", "shop.Loop"]);
        let checked = crate::api::check_source("api.yaml", lowered.yaml, crate::manifest::Format::Yaml);
        assert!(checked.ir.is_some(), "{}", checked.render(crate::api::DiagFormat::Short));
    }

    #[test]
    fn the_database_vendor_decides_the_engine_and_the_uuid_form() {
        let dump = |vendor: &str| -> Dump {
            serde_json::from_value(serde_json::json!({
                "django": "5.2", "settings": "s", "auth_user_model": null, "database_vendor": vendor,
                "models": [model("Item", field("key", "AutoField", None))],
            }))
            .unwrap()
        };
        let storage = |yaml: String| crate::api::check_source("api.yaml", yaml, crate::manifest::Format::Yaml).ir.expect("valid").storage;
        let pg = lower(&dump("postgresql"), "api");
        assert!(
            pg.yaml.contains("  engine: postgres") && !pg.yaml.contains("uuid_format") && !pg.yaml.contains("datetime_format"),
            "{}",
            pg.yaml
        );
        assert_eq!(
            storage(pg.yaml),
            crate::ir::Storage { uuid_simple: false, django_datetimes: false, django_json: false, postgres: true }
        );
        let sqlite = lower(&dump("sqlite"), "api");
        assert!(!sqlite.yaml.contains("engine:") && sqlite.yaml.contains("uuid_format: simple"), "{}", sqlite.yaml);
        assert_eq!(
            storage(sqlite.yaml),
            crate::ir::Storage { uuid_simple: true, django_datetimes: true, django_json: true, postgres: false }
        );
        assert!(pg.warnings.is_empty() && !lower(&dump("sqlite"), "api").warnings.iter().any(|w| w.at.starts_with("DATABASES")));
        let mysql = lower(&dump("mysql"), "api");
        assert!(mysql.warnings.iter().any(|w| w.at == "DATABASES['default']" && w.message.contains("mysql")), "{:?}", mysql.warnings);
    }

    fn sqlite_dump(models: serde_json::Value) -> Dump {
        serde_json::from_value(serde_json::json!({
            "django": "5.2", "settings": "s", "auth_user_model": null, "database_vendor": "sqlite", "models": models,
        }))
        .unwrap()
    }

    fn valid(lowered: &Lowered) -> crate::ir::Ir {
        let checked = crate::api::check_source("api.yaml", lowered.yaml.clone(), crate::manifest::Format::Yaml);
        let rendered = checked.render(crate::api::DiagFormat::Short);
        checked.ir.unwrap_or_else(|| panic!("{rendered}\n{}", lowered.yaml))
    }

    #[test]
    fn what_the_validator_refuses_is_left_out_with_its_reason_and_the_rest_is_kept() {
        let fk = |to: &str| Some(serde_json::json!({"to": to, "on_delete": "CASCADE"}));
        // A model of only its key (one that exists for its permissions) is kept.
        let mut keyed_only = model("Admin", field("key", "AutoField", None));
        keyed_only["fields"].as_array_mut().unwrap().truncate(1);
        let mut tagged = model("Photo", field("key", "AutoField", None));
        tagged["many_to_many"] = serde_json::json!([{"name": "tags", "to": "shop.Tag", "through": "shop.TaggedItem"}]);
        let mut tagged_item = model("TaggedItem", field("key", "AutoField", None));
        tagged_item["fields"].as_array_mut().unwrap().push(field("tag", "ForeignKey", fk("shop.Tag")));
        // `Tag` in two apps is prefixed with each app's name; a model already named `ShopTag`
        // then clashes (E103), and the validator refuses it.
        let mut blog_tag = model("Tag", field("key", "AutoField", None));
        blog_tag["app"] = "blog".into();
        blog_tag["label"] = "blog.Tag".into();
        blog_tag["db_table"] = "blog_tag".into();
        let mut note = model("Note", field("key", "AutoField", None));
        note["fields"].as_array_mut().unwrap().push(field("admin", "ForeignKey", fk("shop.Admin")));
        note["fields"].as_array_mut().unwrap().push(field("shop_tag", "ForeignKey", fk("shop.ShopTag")));
        let mut rank = field("rank", "IntegerField", None);
        rank["default"] = serde_json::json!({"kind": "value", "value": "first"});
        note["fields"].as_array_mut().unwrap().push(rank);
        let models = [
            keyed_only,
            tagged,
            tagged_item,
            model("Tag", field("key", "AutoField", None)),
            blog_tag,
            model("ShopTag", field("key", "AutoField", None)),
            note,
        ];
        let lowered = lower(&sqlite_dump(serde_json::json!(models)), "api");
        let ir = valid(&lowered);
        let names: Vec<&str> = ir.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Admin", "Photo", "TaggedItem", "ShopTag", "BlogTag", "Note"], "{}", lowered.yaml);
        let warned = |at: &str, code: &str| lowered.warnings.iter().any(|w| w.at == at && w.message.contains(code));
        assert!(warned("shop.ShopTag", "E103") && warned("shop.Photo.tags", "E302"), "{:?}", lowered.warnings);
        assert!(lowered.yaml.contains("# shop.ShopTag (table shop_shoptag): skipped: the manifest would not validate"), "{}", lowered.yaml);
        assert!(lowered.yaml.contains("      # tags: skipped: the manifest would not validate"), "{}", lowered.yaml);
        // A relation to the model left out keeps its column, as the value it stores; one to the
        // key-only model is a relation.
        let note = &ir.models[5];
        let shop_tag = note.fields.iter().find(|f| f.column == "shop_tag_id").expect("the column stays");
        assert_eq!(shop_tag.name, "shop_tag_id");
        assert!(warned("shop.Note.shop_tag", "imported as `shop_tag_id`, the value it stores"), "{:?}", lowered.warnings);
        let admin = note.fields.iter().find(|f| f.column == "admin_id").expect("the relation");
        assert!(matches!(&admin.kind, crate::ir::FieldKind::ForeignKey { target, .. } if target == "Admin"), "{:?}", admin.kind);
        // A default the validator refuses goes alone; the field stays, required.
        assert!(lowered.yaml.contains("      rank: { type: integer }\n"), "{}", lowered.yaml);
        assert!(warned("shop.Note.rank", "default left out: the manifest would not validate with it (E204"), "{:?}", lowered.warnings);
    }

    #[test]
    fn names_that_would_clash_in_the_api_are_resolved() {
        let fk_to_field = serde_json::json!({"to": "shop.Account", "to_field": "id", "on_delete": "CASCADE"});
        let mut account = model("Account", field("key", "AutoField", None));
        account["fields"].as_array_mut().unwrap().push(serde_json::json!({
            "name": "id", "column": "id", "class": "django.db.models.CharField", "internal_type": "CharField",
            "unique": true, "max_length": 255, "default": {"kind": "none"},
        }));
        let mut charge = model("Charge", field("key", "AutoField", None));
        charge["fields"].as_array_mut().unwrap().push(field("account", "ForeignKey", Some(fk_to_field)));
        let options = model("AttributeOption", field("key", "AutoField", None));
        let group = model("AttributeOptionGroup", field("key", "AutoField", None));
        let history = model("HistoricalPage_sites", field("key", "AutoField", None));
        // `periodicTasks` would list `PeriodicTask` and read one `PeriodicTasks`.
        let task = model("PeriodicTask", field("key", "AutoField", None));
        let tasks = model("PeriodicTasks", field("key", "SmallIntegerField", None));
        let lowered = lower(&sqlite_dump(serde_json::json!([account, charge, options, group, history, task, tasks])), "api");
        let ir = valid(&lowered);
        let names: Vec<&str> = ir.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Account",
                "Charge",
                "AttributeOption",
                "ShopAttributeOptionGroup",
                "HistoricalPageSites",
                "PeriodicTask",
                "ShopPeriodicTasks"
            ]
        );
        assert!(lowered
            .warnings
            .iter()
            .any(|w| w.at == "shop.PeriodicTasks" && w.message.contains("root fields would clash with those of model `PeriodicTask`")));
        assert_eq!(ir.models[4].table, "shop_historicalpage_sites", "the table is kept");
        let own_id = ir.models[0].fields.iter().find(|f| f.column == "id").expect("the `id` column");
        assert_eq!(own_id.name, "own_id");
        // A foreign key to a unique field other than the key: its stored value, typed as that field.
        let account_id = ir.models[1].fields.iter().find(|f| f.column == "account_id").expect("the column stays");
        assert!(matches!(account_id.kind, crate::ir::FieldKind::Scalar(crate::ir::ScalarKind::String { .. })), "{:?}", account_id.kind);
        assert!(lowered.warnings.iter().any(|w| w.at == "shop.AttributeOptionGroup" && w.message.contains("`ShopAttributeOptionGroup`")));
    }

    #[test]
    fn a_blank_choice_field_also_takes_the_empty_string() {
        let choice = |name: &str, blank: bool| {
            serde_json::json!({
                "name": name, "column": name, "class": "django.db.models.CharField", "internal_type": "CharField",
                "max_length": 10, "blank": blank, "default": {"kind": "none"}, "choices": [["plain", "Plain"], ["s256", "S256"]],
            })
        };
        let mut grant = model("Grant", field("key", "AutoField", None));
        grant["fields"].as_array_mut().unwrap().extend([choice("method", true), choice("kind", false)]);
        let lowered = lower(&sqlite_dump(serde_json::json!([grant])), "api");
        valid(&lowered);
        assert!(
            lowered.yaml.contains(r#"method: { type: string, max_length: 10, choices: ["plain", "s256", ""], default: "" }"#),
            "{}",
            lowered.yaml
        );
        assert!(lowered.yaml.contains("kind: { type: enum, values: [plain, s256] }"), "{}", lowered.yaml);
        assert!(lowered.warnings.iter().any(|w| w.at == "shop.Grant.method" && w.message.contains("also stores ''")));
    }

    #[test]
    fn reverse_sides_are_named_as_django_names_them() {
        let rel = |related_name: Option<&str>, accessor: Option<&str>| {
            Some(serde_json::json!({"to": "shop.Tag", "on_delete": "CASCADE", "related_name": related_name, "accessor": accessor}))
        };
        let mut item = model("Item", field("key", "AutoField", None));
        let fields = item["fields"].as_array_mut().unwrap();
        fields.push(field("tag", "ForeignKey", rel(None, Some("item_set"))));
        fields.push(field("main_tag", "ForeignKey", rel(Some("main_items"), Some("main_items"))));
        fields.push(field("hidden_tag", "ForeignKey", rel(Some("+"), None)));
        let mut computed = field("old_tag", "ForeignKey", rel(None, None));
        computed["default"] = serde_json::json!({"kind": "callable", "name": "shop.models.root_tag_id"});
        fields.push(computed);
        let lowered = lower(&sqlite_dump(serde_json::json!([item, model("Tag", field("key", "AutoField", None))])), "api");
        // A default Python computes cannot be the API's: said, with what it means for creates.
        assert!(
            lowered.warnings.iter().any(|w| w.at == "shop.Item.old_tag" && w.message.ends_with("dropped: the API requires it on create")),
            "{:?}",
            lowered.warnings
        );
        let ir = valid(&lowered);
        let reverses: Vec<&str> = ir.models[1].reverse.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(reverses, ["item_set", "main_items"], "{}", lowered.yaml);
    }
}
