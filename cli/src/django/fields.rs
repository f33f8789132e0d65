//! One Django field lowered to a manifest field: its type, options, choices, default and
//! validators, or the reason it stays a comment.

use std::collections::BTreeSet;

use super::dump::{Default as DjangoDefault, Field, Model, Validator};
use super::lower::*;

impl Lowering<'_> {
    pub(super) fn field(&mut self, m: &Model, f: &Field) -> Entry {
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
            if matches!(ty, "uuid" | "string" | "integer" | "big_integer") {
                o.push(("primary_key".into(), "true".into()));
            }
            // Django's positive and small integers keep their ranges.
            let range = match f.internal_type.as_str() {
                "SmallIntegerField" => Some(("-32768", "32767")),
                "PositiveSmallIntegerField" => Some(("0", "32767")),
                "PositiveIntegerField" | "PositiveBigIntegerField" => Some(("0", "")),
                _ => None,
            };
            if let Some((min, max)) = range {
                o.push(("min".into(), min.into()));
                if !max.is_empty() {
                    o.push(("max".into(), max.into()));
                }
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
