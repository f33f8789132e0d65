//! A Django dump lowered into a manifest: readable YAML the user edits afterwards, in which what
//! could not be mapped stays as a commented entry with its reason, and every lossy decision is also
//! a warning naming the Django model and field.
//!
//! Tables, columns and join tables keep the names Django gave them, so the generated server reads
//! the Django database as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::dump::{Default as DjangoDefault, Dump, Field, Model, Validator};
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
enum Entry {
    Field { name: String, options: Vec<(String, String)> },
    Skipped { name: String, why: String },
}

struct Lowering<'a> {
    dump: &'a Dump,
    /// `app.Model` → manifest model name, for every model that gets one.
    names: BTreeMap<String, String>,
    warnings: Vec<Warning>,
    /// Entries left out because the manifest would not validate with them, and why.
    excluded: &'a BTreeMap<String, String>,
    /// `app.Model` → why it is not imported.
    skipped: BTreeMap<String, String>,
    origins: Vec<(usize, String)>,
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
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A YAML scalar: JSON's quoting is valid YAML.
fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl Lowering<'_> {
    fn warn(&mut self, at: &str, message: &str) {
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
        for m in kept {
            let plain = &plains[m.label.as_str()];
            *count.entry(plain.as_str()).or_default() += 1;
            for ty in names::model_types(plain).skip(1) {
                derived.insert(ty, plain.as_str());
            }
        }
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
                derived.get(&plain).map(|owner| format!("the API names a type of model `{owner}` `{plain}`"))
            };
            let name = if why.is_some() { format!("{}{plain}", pascal(&m.app)) } else { plain.clone() };
            if let Some(why) = why {
                self.warn(&m.label, &format!("named `{name}`: {why}"));
            }
            self.names.insert(m.label.clone(), name);
        }
    }

    /// Writes one model; returns how many fields it maps.
    fn model(&mut self, m: &Model, yaml: &mut String) -> usize {
        let name = self.names[&m.label].clone();
        self.origins.push((yaml.len(), m.label.clone()));
        let _ = writeln!(yaml, "\n  # {} (table {})", m.label, m.db_table);
        let _ = writeln!(yaml, "  {name}:");
        let _ = writeln!(yaml, "    table: {}", json(&m.db_table));
        // Django's migrations own the table.
        let _ = writeln!(yaml, "    managed: false");
        if let Some(doc) = m.doc.as_ref().map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|d| !d.is_empty()) {
            let _ = writeln!(yaml, "    description: {}", json(&doc));
        }
        if !m.managed {
            self.warn(&m.label, "unmanaged (`managed = False`): its table is created outside Django; gqlauto uses it as it is");
        }
        let _ = writeln!(yaml, "    fields:");
        let mut mapped = BTreeMap::new();
        let mut count = 0;
        for f in &m.fields {
            self.origins.push((yaml.len(), format!("{}.{}", m.label, f.name)));
            match self.field(m, f) {
                Entry::Field { name, options } => {
                    let body = options.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
                    let _ = writeln!(yaml, "      {name}: {{ {body} }}");
                    mapped.insert(f.name.clone(), name);
                    count += 1;
                }
                Entry::Skipped { name, why } => {
                    let _ = writeln!(yaml, "      # {name}: skipped: {why}");
                    self.warn(&format!("{}.{}", m.label, f.name), &format!("skipped: {why}"));
                }
            }
        }
        for r in &m.many_to_many {
            let at = format!("{}.{}", m.label, r.name);
            self.origins.push((yaml.len(), at.clone()));
            if let Some(why) = self.excluded.get(&at) {
                let _ = writeln!(yaml, "      # {}: skipped: {}", r.name, one_line(why));
                self.warn(&at, &format!("skipped: {why}"));
                continue;
            }
            let Some(target) = self.names.get(&r.to).cloned() else {
                let _ = writeln!(yaml, "      # {}: skipped: many-to-many to {}, which is not imported", r.name, r.to);
                self.warn(&at, &format!("skipped: its target {} is not imported", r.to));
                continue;
            };
            if let Some(class) = r.class.as_ref().filter(|c| !c.starts_with("django.")) {
                self.warn(&at, &format!("{class} is not a Django field class: mapped as the many-to-many relation it is"));
            }
            let mut options = vec![("type".to_string(), "many_to_many".to_string()), ("to".to_string(), target)];
            if !r.auto_created {
                match self.names.get(&r.through) {
                    Some(through) => options.push(("through".into(), through.clone())),
                    None => {
                        let _ = writeln!(yaml, "      # {}: skipped: through model {} is not imported", r.name, r.through);
                        self.warn(&at, &format!("skipped: its through model {} is not imported", r.through));
                        continue;
                    }
                }
            } else {
                // Django's names, whatever gqlauto would have chosen.
                match (&r.db_table, &r.source_column, &r.target_column) {
                    (Some(table), Some(source), Some(target)) => {
                        options.push(("join_table".into(), json(table)));
                        options.push(("join_columns".into(), format!("[{}, {}]", json(source), json(target))));
                    }
                    _ => self.warn(&at, "the dump does not name its join table: gqlauto's default names are used"),
                }
            }
            if let Some(rn) = reverse_name(&r.related_name, &r.accessor) {
                options.push(("related_name".into(), json(rn)));
            }
            if let Some(help) = &r.help_text {
                options.push(("description".into(), json(help)));
            }
            let body = options.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
            let _ = writeln!(yaml, "      {}: {{ {body} }}", field_name(&r.name));
            mapped.insert(r.name.clone(), field_name(&r.name));
            count += 1;
        }
        for g in &m.generic {
            let gname = g.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            self.warn(&format!("{}.{gname}", m.label), "a generic relation is exposed as its content type and object id fields only");
        }
        self.model_options(m, &mapped, yaml);
        count
    }

    fn model_options(&mut self, m: &Model, mapped: &BTreeMap<String, String>, yaml: &mut String) {
        let field = |n: &str| mapped.get(n).cloned();
        let mut unique: Vec<Vec<String>> = Vec::new();
        for group in &m.unique_together {
            match group.iter().map(|f| field(f)).collect::<Option<Vec<_>>>() {
                Some(g) => unique.push(g),
                None => self.warn(&m.label, &format!("unique_together {group:?} names a field that is not imported")),
            }
        }
        for c in &m.constraints {
            let at = format!("{} constraint `{}`", m.label, c.name);
            match c.kind.as_str() {
                "unique" if !c.conditional && !c.expressions => match c.fields.iter().map(|f| field(f)).collect::<Option<Vec<_>>>() {
                    Some(g) if g.len() > 1 => unique.push(g),
                    Some(_) => {}
                    None => self.warn(&at, "names a field that is not imported"),
                },
                "unique" => {
                    self.warn(&at, "conditional or expression unique constraint: not in the manifest; the database still enforces it")
                }
                "check" => self.warn(
                    &at,
                    &format!("check `{}` is not translated; the database still enforces it", c.condition.as_deref().unwrap_or("?")),
                ),
                _ => self.warn(&at, "not translated; the database still enforces it"),
            }
        }
        if !unique.is_empty() && self.option(m, "unique_together", yaml) {
            let _ = writeln!(yaml, "    unique_together:");
            for g in unique {
                let _ = writeln!(yaml, "      - [{}]", g.join(", "));
            }
        }
        let mut indexes = Vec::new();
        for i in &m.indexes {
            match i.fields.iter().map(|f| field(f)).collect::<Option<Vec<_>>>() {
                Some(fs) if !i.expressions && !fs.is_empty() => indexes.push((fs, i.name.clone())),
                _ => self.warn(
                    &format!("{} index `{}`", m.label, i.name.as_deref().unwrap_or("?")),
                    "descending, expression or unknown fields: not in the manifest",
                ),
            }
        }
        if !indexes.is_empty() && self.option(m, "indexes", yaml) {
            let _ = writeln!(yaml, "    indexes:");
            for (fs, name) in indexes {
                let name = name.map(|n| format!(", name: {}", json(&n))).unwrap_or_default();
                let _ = writeln!(yaml, "      - {{ fields: [{}]{name} }}", fs.join(", "));
            }
        }
        let mut ordering = Vec::new();
        for o in &m.ordering {
            let (desc, f) = o.strip_prefix('-').map_or((false, o.as_str()), |f| (true, f));
            match field(f) {
                Some(f) => ordering.push(if desc { format!("-{f}") } else { f }),
                None => self.warn(&m.label, &format!("ordering `{o}` is not a field of the model: left out")),
            }
        }
        if !ordering.is_empty() && self.option(m, "ordering", yaml) {
            let _ = writeln!(yaml, "    ordering: [{}]", ordering.iter().map(json).collect::<Vec<_>>().join(", "));
        }
    }

    /// Marks where a model option begins; false (with a comment and a warning) if it is left out.
    fn option(&mut self, m: &Model, option: &str, yaml: &mut String) -> bool {
        let key = format!("{}:{option}", m.label);
        self.origins.push((yaml.len(), key.clone()));
        let Some(why) = self.excluded.get(&key) else { return true };
        let _ = writeln!(yaml, "    # {option}: left out: {}", one_line(why));
        self.warn(&m.label, &format!("{option} left out: {why}"));
        false
    }

    fn field(&mut self, m: &Model, f: &Field) -> Entry {
        let at = format!("{}.{}", m.label, f.name);
        let mut name = field_name(&f.name);
        if name == "id" && !f.primary_key {
            // The API exposes the primary key as `id`.
            name = "own_id".into();
        }
        if let Some(why) = self.excluded.get(&at) {
            return Entry::Skipped { name, why: one_line(why) };
        }
        if name != f.name {
            let why = if f.name == "id" {
                "`id` is the primary key in the API; the column is kept".to_string()
            } else {
                format!("`{}` is reserved or not a valid name in the API", f.name)
            };
            self.warn(&at, &format!("named `{name}`: {why}"));
        }
        let mut o: Vec<(String, String)> = Vec::new();
        if f.primary_key && f.relation.is_none() {
            let Some(ty) = pk_type(f) else {
                return Entry::Skipped { name, why: format!("a second primary key ({})", f.internal_type) };
            };
            o.push(("type".into(), ty.into()));
            if let (Some(n), "string") = (f.max_length, ty) {
                o.push(("max_length".into(), n.to_string()));
            }
            if ty == "uuid" || ty == "string" {
                o.push(("primary_key".into(), "true".into()));
            }
            if f.column != name {
                o.push(("column".into(), json(&f.column)));
            }
            return Entry::Field { name, options: o };
        }
        if let Some(r) = &f.relation {
            let target_model = self.dump.models.iter().find(|t| t.label == r.to);
            let target_pk = target_model.and_then(|t| t.pk.clone());
            let unmapped = match self.names.get(&r.to) {
                None => Some(format!("a relation to {}, which is not imported", r.to)),
                Some(_) if r.to_field.is_some() && r.to_field != target_pk => {
                    Some(format!("a foreign key to {}.{}, which is not its primary key", r.to, r.to_field.as_deref().unwrap_or("?")))
                }
                Some(_) => None,
            };
            if let Some(why) = unmapped {
                let to_field = r.to_field.clone().or(target_pk);
                let stored = target_model.and_then(|t| t.fields.iter().find(|tf| Some(&tf.name) == to_field.as_ref()));
                return match stored.map(|s| self.stored_key(f, s, &at)) {
                    Some(Ok(mut options)) => {
                        let name = field_name(&f.column);
                        if f.column != name {
                            options.push(("column".into(), json(&f.column)));
                        }
                        self.common(f, &mut options, &at, true);
                        self.warn(&at, &format!("{why}: imported as `{name}`, the value it stores, without the relation"));
                        Entry::Field { name, options }
                    }
                    _ => Entry::Skipped { name, why },
                };
            }
            let target = self.names[&r.to].clone();
            if !f.class.starts_with("django.") {
                let kind = if r.one_to_one { "one-to-one" } else { "foreign key" };
                let what = format!("{} is not a Django field class: mapped as the {kind} it is", f.class);
                self.warn(&at, &what);
            }
            o.push(("type".into(), if r.one_to_one { "one_to_one" } else { "foreign_key" }.into()));
            o.push(("to".into(), target));
            if f.primary_key {
                o.push(("primary_key".into(), "true".into()));
            }
            let on_delete = match r.on_delete.as_deref() {
                Some("CASCADE") => "cascade",
                Some("PROTECT") => "protect",
                Some("RESTRICT") => "restrict",
                Some("SET_NULL") => "set_null",
                other => {
                    self.warn(
                        &at,
                        &format!("on_delete {} becomes `restrict`: the API refuses the delete instead", other.unwrap_or("(unknown)")),
                    );
                    "restrict"
                }
            };
            o.push(("on_delete".into(), on_delete.into()));
            if let DjangoDefault::Callable { name } = &f.default {
                let required = if f.null { "" } else { ": the API requires it on create" };
                self.warn(&at, &format!("default {name}() is computed by Python: dropped{required}"));
            }
            if let Some(rn) = reverse_name(&r.related_name, &r.accessor) {
                o.push(("related_name".into(), json(rn)));
            }
            if f.column != format!("{name}_id") {
                o.push(("column".into(), json(&f.column)));
            }
            self.common(f, &mut o, &at, true);
            return Entry::Field { name, options: o };
        }
        let ty = match self.scalar(f, &at) {
            Ok(ty) => ty,
            Err(why) => return Entry::Skipped { name, why },
        };
        o.extend(ty);
        if f.column != name {
            o.push(("column".into(), json(&f.column)));
        }
        self.common(f, &mut o, &at, false);
        if secret(&m.label, &name) {
            o.push(("hidden".into(), "true".into()));
            self.warn(&at, "holds a secret (a password hash, token or key): imported `hidden: true`, never readable through the API");
        }
        Entry::Field { name, options: o }
    }

    /// The type of a relation's column when the relation cannot be mapped: the type of the target
    /// field it stores (an auto key stores an integer).
    fn stored_key(&mut self, f: &Field, target: &Field, at: &str) -> Result<Vec<(String, String)>, String> {
        let internal_type = match target.internal_type.as_str() {
            "AutoField" | "SmallAutoField" => "IntegerField",
            "BigAutoField" => "BigIntegerField",
            other => other,
        };
        let stored = Field {
            internal_type: internal_type.to_string(),
            class: format!("django.db.models.{internal_type}"),
            relation: None,
            choices: None,
            validators: Vec::new(),
            ..target.clone()
        };
        let mut options = self.scalar(&stored, at)?;
        if f.unique {
            options.push(("unique".into(), "true".into()));
        } else if f.db_index {
            // Django indexes a foreign key's column.
            options.push(("indexed".into(), "true".into()));
        }
        Ok(options)
    }

    /// `type` and its type options for a column-backed scalar.
    fn scalar(&mut self, f: &Field, at: &str) -> Result<Vec<(String, String)>, String> {
        let known = f.class.starts_with("django.");
        let it = f.internal_type.as_str();
        if !known {
            self.warn(at, &format!("{} is not a Django field class: mapped by what it stores ({it})", f.class));
        }
        let t = |s: &str| vec![("type".to_string(), s.to_string())];
        let mut out = match it {
            "IntegerField" | "SmallIntegerField" | "PositiveIntegerField" | "PositiveSmallIntegerField" => t("integer"),
            "BigIntegerField" | "PositiveBigIntegerField" => t("big_integer"),
            "FloatField" => t("float"),
            "DecimalField" => {
                let mut o = t("decimal");
                o.push(("max_digits".into(), f.max_digits.unwrap_or(20).to_string()));
                o.push(("decimal_places".into(), f.decimal_places.unwrap_or(0).to_string()));
                o
            }
            "BooleanField" | "NullBooleanField" => t("boolean"),
            "CharField"
            | "SlugField"
            | "EmailField"
            | "URLField"
            | "FileField"
            | "ImageField"
            | "FilePathField"
            | "GenericIPAddressField"
            | "IPAddressField" => {
                // Django's EmailField and URLField store as CharField: the class says what they hold.
                let class = f.class.rsplit('.').next().unwrap_or_default();
                // A Django slug may hold capitals (and, with `allow_unicode`, any letter): a string
                // checked by the slug's own pattern, which comes with its validators.
                let ty = match (it, class) {
                    (_, "EmailField" | "URLField") if f.blank && !f.null => {
                        self.warn(at, "blank=True stores '' in a formatted field: imported as a string, its format unchecked");
                        "string"
                    }
                    (_, "EmailField") => "email",
                    (_, "URLField") => "url",
                    _ => "string",
                };
                if matches!(it, "FileField" | "ImageField" | "FilePathField") {
                    self.warn(at, "a file field is the stored path, a string");
                }
                let mut o = t(ty);
                o.push(("max_length".into(), f.max_length.unwrap_or(if it == "GenericIPAddressField" { 39 } else { 255 }).to_string()));
                o
            }
            "TextField" => t("text"),
            "UUIDField" => t("uuid"),
            "DateField" => t("date"),
            "DateTimeField" => t("datetime"),
            "TimeField" => t("time"),
            "JSONField" => t("json"),
            "DurationField" => {
                self.warn(at, "a duration is its stored microseconds, a big integer");
                t("big_integer")
            }
            "BinaryField" => return Err("binary data has no manifest type".into()),
            "ArrayField" => {
                self.warn(at, "a PostgreSQL array is read as JSON");
                t("json")
            }
            other => return Err(format!("{} stores as {other}, which has no manifest type", f.class)),
        };
        if it.starts_with("Positive") {
            out.push(("min".into(), "0".into()));
        }
        Ok(out)
    }

    /// Options every column-backed field shares: nullability, uniqueness, default, choices, validators.
    fn common(&mut self, f: &Field, o: &mut Vec<(String, String)>, at: &str, relation: bool) {
        if f.null {
            o.push(("nullable".into(), "true".into()));
        }
        if f.unique && !relation {
            o.push(("unique".into(), "true".into()));
        }
        if f.db_index && !f.unique && !relation {
            o.push(("indexed".into(), "true".into()));
        }
        if !relation {
            self.choices(f, o, at);
            self.default(f, o, at);
            self.validators(f, o, at);
        }
        if let Some(help) = &f.help_text {
            o.push(("description".into(), json(help)));
        }
    }

    fn choices(&mut self, f: &Field, o: &mut Vec<(String, String)>, at: &str) {
        let Some(choices) = &f.choices else { return };
        let strings: Option<Vec<&str>> = choices.iter().map(|(v, _)| v.as_str()).collect();
        let Some(mut values) = strings else {
            let numbers: Vec<i64> = choices.iter().filter_map(|(v, _)| v.as_i64()).collect();
            if let (Some(min), Some(max)) = (numbers.iter().min(), numbers.iter().max()) {
                o.push(("min".into(), min.to_string()));
                o.push(("max".into(), max.to_string()));
                self.warn(at, &format!("integer choices become the range {min}..{max}"));
            } else {
                self.warn(at, "choices that are neither strings nor integers are not translated");
            }
            return;
        };
        // Django accepts '' in a `blank=True` field whatever its choices, and stores a default
        // that is not among them.
        let mut extra = Vec::new();
        if f.blank && !values.contains(&"") {
            extra.push("''".to_string());
            values.push("");
        }
        if let DjangoDefault::Value { value: serde_json::Value::String(d), .. } = &f.default {
            if !values.contains(&d.as_str()) {
                extra.push(format!("its default {d:?}"));
                values.push(d);
            }
        }
        let enum_like =
            values.iter().all(|v| is_enum_value(v)) && values.iter().collect::<BTreeSet<_>>().len() == values.len() && values.len() <= 200;
        if enum_like {
            o[0] = ("type".into(), "enum".into());
            o.retain(|(k, _)| k != "max_length");
            o.push(("values".into(), format!("[{}]", values.join(", "))));
        } else {
            o.push(("choices".into(), format!("[{}]", values.iter().map(json).collect::<Vec<_>>().join(", "))));
            if !extra.is_empty() {
                let what = extra.join(" and ");
                self.warn(at, &format!("Django also stores {what}: a string checked against the choices and {what}"));
            } else {
                self.warn(at, "choices that are not lowercase identifiers stay strings checked against the list");
            }
        }
    }

    fn default(&mut self, f: &Field, o: &mut Vec<(String, String)>, at: &str) {
        if let Some(why) = self.excluded.get(&format!("{at}:default")) {
            self.warn(at, &format!("default left out: {why}"));
            return;
        }
        if f.auto_now || f.auto_now_add {
            o.push(("default".into(), "now".into()));
            if f.auto_now {
                self.warn(at, "auto_now: set on insert; updates through the API do not refresh it");
            }
            return;
        }
        match &f.default {
            // What Django's forms store for an empty text field.
            DjangoDefault::None if f.blank && !f.null && matches!(o[0].1.as_str(), "string" | "text") => {
                o.push(("default".into(), "\"\"".into()))
            }
            DjangoDefault::None => {}
            DjangoDefault::Value { value, .. } if value.is_null() => {}
            DjangoDefault::Value { value, translated } if !value.is_object() && !value.is_array() => {
                if *translated {
                    self.warn(at, &format!("default {value} is translated lazily: imported as its text in the project's default language"));
                }
                o.push(("default".into(), json(value)))
            }
            DjangoDefault::Callable { name }
                if matches!(name.as_str(), "django.utils.timezone.now" | "datetime.datetime.now" | "datetime.date.today") =>
            {
                o.push(("default".into(), "now".into()))
            }
            DjangoDefault::Callable { name } if name == "uuid.uuid4" => o.push(("default".into(), "uuid".into())),
            DjangoDefault::Callable { name } => self.warn(at, &format!("default {name}() is computed by Python: dropped")),
            DjangoDefault::Value { value, .. } => {
                self.warn(at, &format!("default {value} dropped: structured defaults have no manifest form"))
            }
            DjangoDefault::Unserializable { repr } => self.warn(at, &format!("default {repr} dropped")),
        }
    }

    fn validators(&mut self, f: &Field, o: &mut Vec<(String, String)>, at: &str) {
        for v in &f.validators {
            match v {
                Validator::MinLength { value } => o.push(("min_length".into(), value.to_string())),
                Validator::MinValue { value } if value.is_number() || value.is_string() => {
                    o.push(("min".into(), value.as_str().map_or(value.to_string(), str::to_string)))
                }
                Validator::MaxValue { value } if value.is_number() || value.is_string() => {
                    o.push(("max".into(), value.as_str().map_or(value.to_string(), str::to_string)))
                }
                // The type already checks its format.
                Validator::Email | Validator::MaxLength { .. } | Validator::Regex { .. }
                    if matches!(o[0].1.as_str(), "email" | "url" | "slug") => {}
                Validator::Regex { pattern: Some(p), class, inverse: false } if class == "django.core.validators.RegexValidator" => {
                    // Python's end-of-text `\Z` is `\z` in the regex syntax the server uses.
                    let pattern = p.replace("\\Z", "\\z");
                    if regex_lite::Regex::new(&pattern).is_ok() {
                        o.push(("pattern".into(), json(&pattern)));
                    } else {
                        self.warn(at, &format!("pattern {p:?} uses syntax the server's regex engine lacks: not translated"));
                    }
                }
                // A blank formatted field imported as a string: its warning already says so.
                Validator::Email => {}
                Validator::Regex { class, .. } if class == "django.core.validators.URLValidator" => {}
                Validator::Other { class } => self.warn(at, &format!("validator {class} is not translated")),
                Validator::Regex { class, pattern, .. } => {
                    self.warn(at, &format!("validator {class} ({}) is not translated", pattern.as_deref().unwrap_or("no pattern")))
                }
                other => self.warn(at, &format!("validator {other:?} is not translated")),
            }
        }
        // A later `min` from a validator wins over the one a Positive type implies.
        let mut seen = BTreeSet::new();
        let mut kept: Vec<(String, String)> = o.iter().rev().filter(|(k, _)| seen.insert(k.clone())).cloned().collect();
        kept.reverse();
        *o = kept;
    }
}

/// Why a model cannot be imported, if it cannot. A key that links to another model's row (multi-table
/// inheritance, `OneToOneField(primary_key=True)`) is served only if that model is, through chains
/// of such links; `depth` stops a cycle of them.
fn skip_reason(dump: &Dump, excluded: &BTreeMap<String, String>, m: &Model, depth: usize) -> Option<String> {
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
            "its primary key `{}` is a {}; gqlauto keys are auto, big_auto, uuid, string or a one-to-one link",
            pk.name, pk.internal_type
        ));
    };
    let target = dump.models.iter().find(|t| t.label == r.to);
    let target_kept = depth < dump.models.len() && target.is_some_and(|t| skip_reason(dump, excluded, t, depth + 1).is_none());
    (!target_kept).then(|| format!("its key `{}` links to {}, which is not imported", pk.name, r.to))
}

/// The primary key and its relation, when the key is a one-to-one link to another model's row.
fn key_link(m: &Model) -> Option<(&Field, &super::dump::Relation)> {
    let pk = m.fields.iter().find(|f| Some(&f.name) == m.pk.as_ref())?;
    pk.relation.as_ref().filter(|r| r.one_to_one).map(|r| (pk, r))
}

/// The manifest type of a primary key, if gqlauto can serve it.
fn pk_type(f: &Field) -> Option<&'static str> {
    match f.internal_type.as_str() {
        "AutoField" | "SmallAutoField" => Some("auto"),
        "BigAutoField" => Some("big_auto"),
        "UUIDField" if f.relation.is_none() => Some("uuid"),
        "CharField" | "SlugField" if f.relation.is_none() => Some("string"),
        _ => None,
    }
}

/// The reverse side's name: the one the project gives, else the one Django derives (`product_set`);
/// none for a hidden one (`+`).
fn reverse_name<'a>(related_name: &'a Option<String>, accessor: &'a Option<String>) -> Option<&'a String> {
    match related_name {
        Some(rn) if rn.ends_with('+') => None,
        Some(rn) => Some(rn),
        None => accessor.as_ref().filter(|a| !a.ends_with('+')),
    }
}

/// A Django field name as a manifest field name: leading underscores dropped, reserved words suffixed.
fn field_name(name: &str) -> String {
    let trimmed = name.trim_start_matches('_');
    let base = if trimmed.is_empty() { "field" } else { trimmed };
    if names::reserved_field_name(base).is_some() || names::reserved_column_name(base).is_some() {
        format!("{base}_value")
    } else {
        base.to_string()
    }
}

fn is_enum_value(v: &str) -> bool {
    let mut chars = v.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A class name in PascalCase: parts after underscores capitalized and joined
/// (`HistoricalFlatPage_sites` -> `HistoricalFlatPageSites`).
fn pascal_name(name: &str) -> String {
    let joined = pascal(name);
    if names::is_pascal_ident(&joined) {
        joined
    } else {
        name.to_string()
    }
}

fn pascal(s: &str) -> String {
    s.split('_').filter(|p| !p.is_empty()).map(|p| p[..1].to_uppercase() + &p[1..]).collect()
}

/// Whether a field holds a secret no API caller should read: password hashes, tokens, keys and
/// secrets (by name, as Django's own and well-known apps name them), and session contents.
fn secret(model: &str, field: &str) -> bool {
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
        let mut keyed_only = model("Admin", field("key", "AutoField", None));
        keyed_only["fields"].as_array_mut().unwrap().truncate(1);
        let mut tagged = model("Photo", field("key", "AutoField", None));
        tagged["many_to_many"] = serde_json::json!([{"name": "tags", "to": "shop.Tag", "through": "shop.TaggedItem"}]);
        let mut tagged_item = model("TaggedItem", field("key", "AutoField", None));
        tagged_item["fields"].as_array_mut().unwrap().push(field("tag", "ForeignKey", fk("shop.Tag")));
        let mut note = model("Note", field("key", "AutoField", None));
        note["fields"].as_array_mut().unwrap().push(field("admin", "ForeignKey", fk("shop.Admin")));
        let mut rank = field("rank", "IntegerField", None);
        rank["default"] = serde_json::json!({"kind": "value", "value": "first"});
        note["fields"].as_array_mut().unwrap().push(rank);
        let dump = sqlite_dump(serde_json::json!([keyed_only, tagged, tagged_item, model("Tag", field("key", "AutoField", None)), note]));
        let lowered = lower(&dump, "api");
        let ir = valid(&lowered);
        let names: Vec<&str> = ir.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Photo", "TaggedItem", "Tag", "Note"], "{}", lowered.yaml);
        let warned = |at: &str, code: &str| lowered.warnings.iter().any(|w| w.at == at && w.message.contains(code));
        assert!(warned("shop.Admin", "E203") && warned("shop.Photo.tags", "E302"), "{:?}", lowered.warnings);
        assert!(lowered.yaml.contains("# shop.Admin (table shop_admin): skipped: the manifest would not validate"), "{}", lowered.yaml);
        assert!(lowered.yaml.contains("      # tags: skipped: the manifest would not validate"), "{}", lowered.yaml);
        // A relation to the model left out keeps its column, as the value it stores.
        let admin = ir.models[3].fields.iter().find(|f| f.column == "admin_id").expect("the column stays");
        assert_eq!(admin.name, "admin_id");
        assert!(warned("shop.Note.admin", "imported as `admin_id`, the value it stores"), "{:?}", lowered.warnings);
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
        let lowered = lower(&sqlite_dump(serde_json::json!([account, charge, options, group, history])), "api");
        let ir = valid(&lowered);
        let names: Vec<&str> = ir.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Account", "Charge", "AttributeOption", "ShopAttributeOptionGroup", "HistoricalPageSites"]);
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
