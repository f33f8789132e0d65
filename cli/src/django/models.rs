//! One Django model lowered to a manifest model: its table, key, fields and model options
//! (ordering, indexes, unique groups), each entry written or left as a comment with the reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::dump::{ManyToMany, Model};
use super::lower::*;

impl Lowering<'_> {
    /// Writes one model; returns how many fields it maps.
    pub(super) fn model(&mut self, m: &Model, yaml: &mut String) -> usize {
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
            let generic = if r.auto_created { None } else { self.generic_through(m, r) };
            if let Some(class) = r.class.as_ref().filter(|c| !c.starts_with("django.")) {
                let how = match generic {
                    Some(_) => format!("a tag manager through the generic {}: mapped as a many-to-many relation through it, to the rows whose content type is this model's", r.through),
                    None => "mapped as the many-to-many relation it is".to_string(),
                };
                self.warn(&at, &format!("{class} is not a Django field class: {how}"));
            }
            let mut options = vec![("type".to_string(), "many_to_many".to_string()), ("to".to_string(), target)];
            if !r.auto_created {
                match self.names.get(&r.through) {
                    Some(through) => {
                        options.push(("through".into(), through.clone()));
                        if let Some((fields, scope)) = generic {
                            options.push(("through_fields".into(), fields));
                            options.push(("through_where".into(), scope));
                        }
                    }
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

    /// A tag manager through a generic model (taggit's `TaggedItem`, with a content type and an
    /// object id instead of a foreign key to the tagged model): the through model's two linking
    /// fields and the content type naming `m`, as `through_fields` and `through_where` give them.
    /// `None` for any other through model, or when content types are not imported.
    fn generic_through(&self, m: &Model, r: &ManyToMany) -> Option<(String, String)> {
        const CONTENT_TYPE: &str = "contenttypes.ContentType";
        self.names.get(CONTENT_TYPE)?;
        let through = self.dump.models.iter().find(|t| t.label == r.through)?;
        let field = |column: &Option<String>| through.fields.iter().find(|f| Some(&f.column) == column.as_ref());
        let (object_id, target) = (field(&r.source_column)?, field(&r.target_column)?);
        let content_type = through.generic.iter().find_map(|g| {
            let holds_key = g.get("fk_field")?.as_str()? == object_id.name;
            if holds_key {
                g.get("ct_field")?.as_str()
            } else {
                None
            }
        })?;
        let ct = through.fields.iter().find(|f| f.name == content_type)?;
        if ct.relation.as_ref().map(|rel| rel.to.as_str()) != Some(CONTENT_TYPE) {
            return None;
        }
        let fields = format!("[{}, {}]", field_name(&object_id.name), field_name(&target.name));
        let model_name = m.name.to_lowercase();
        let scope = format!(
            "{{ {}: {{ {}: {}, {}: {} }} }}",
            field_name(content_type),
            field_name("app_label"),
            json(&m.app),
            field_name("model"),
            json(&model_name)
        );
        Some((fields, scope))
    }

    pub(super) fn model_options(&mut self, m: &Model, mapped: &BTreeMap<String, String>, yaml: &mut String) {
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
    pub(super) fn option(&mut self, m: &Model, option: &str, yaml: &mut String) -> bool {
        let key = format!("{}:{option}", m.label);
        self.origins.push((yaml.len(), key.clone()));
        let Some(why) = self.excluded.get(&key) else { return true };
        let _ = writeln!(yaml, "    # {option}: left out: {}", one_line(why));
        self.warn(&m.label, &format!("{option} left out: {why}"));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::lower::lower;
    use serde_json::json;

    fn field(name: &str, internal: &str, to: Option<&str>) -> serde_json::Value {
        json!({
            "name": name, "column": if to.is_some() { format!("{name}_id") } else { name.to_string() },
            "class": format!("django.db.models.{internal}"), "internal_type": internal, "primary_key": name == "id",
            "default": {"kind": "none"}, "max_length": 100,
            "relation": to.map(|to| json!({"to": to, "on_delete": "CASCADE"})),
        })
    }

    fn model(app: &str, name: &str, fields: Vec<serde_json::Value>) -> serde_json::Value {
        json!({
            "app": app, "name": name, "label": format!("{app}.{name}"), "pk": "id",
            "db_table": format!("{app}_{}", name.to_lowercase()), "fields": fields,
        })
    }

    /// taggit's layout: a photo's tags through `TaggedItem`, whose rows name what they tag by a
    /// content type and an object id.
    fn tagged(with_content_types: bool) -> super::super::lower::Lowered {
        let id = || field("id", "AutoField", None);
        let mut content_type =
            model("contenttypes", "ContentType", vec![id(), field("app_label", "CharField", None), field("model", "CharField", None)]);
        content_type["unique_together"] = json!([["app_label", "model"]]);
        let mut item = model(
            "taggit",
            "TaggedItem",
            vec![
                id(),
                field("tag", "ForeignKey", Some("taggit.Tag")),
                field("content_type", "ForeignKey", Some("contenttypes.ContentType")),
                field("object_id", "IntegerField", None),
            ],
        );
        item["generic"] = json!([{"name": "content_object", "ct_field": "content_type", "fk_field": "object_id"}]);
        let mut photo = model("shop", "Photo", vec![id()]);
        photo["many_to_many"] = json!([{
            "name": "tags", "class": "taggit.managers.TaggableManager", "to": "taggit.Tag", "through": "taggit.TaggedItem",
            "accessor": "photo_set", "auto_created": false, "db_table": "taggit_taggeditem", "source_column": "object_id", "target_column": "tag_id",
        }]);
        let mut models = vec![model("taggit", "Tag", vec![id(), field("name", "CharField", None)]), item, photo];
        if with_content_types {
            models.insert(0, content_type);
        } else {
            models[1]["fields"].as_array_mut().unwrap()[2] = field("content_type", "IntegerField", None);
        }
        let dump = json!({"django": "5.2", "settings": "s", "auth_user_model": null, "database_vendor": "sqlite", "models": models});
        lower(&serde_json::from_value(dump).unwrap(), "api")
    }

    #[test]
    fn a_tag_manager_through_a_generic_model_is_a_relation_to_its_content_types_rows() {
        let lowered = tagged(true);
        let line = "tags: { type: many_to_many, to: Tag, through: TaggedItem, through_fields: [object_id, tag], \
                    through_where: { content_type: { app_label: \"shop\", model: \"photo\" } }, related_name: \"photo_set\" }";
        assert!(lowered.yaml.contains(line), "{}", lowered.yaml);
        let checked = crate::api::check_source("api.yaml", lowered.yaml.clone(), crate::manifest::Format::Yaml);
        let ir = checked.ir.unwrap_or_else(|| panic!("{}", lowered.yaml));
        let scope = ir.model("Photo").unwrap().many_to_many[0].scope.clone().expect("scoped to the photo's content type");
        assert_eq!((scope.table.as_str(), scope.column.as_str()), ("contenttypes_contenttype", "content_type_id"));
        let warning = lowered.warnings.iter().find(|w| w.at == "shop.Photo.tags").expect("a warning");
        assert!(warning.message.contains("a tag manager through the generic taggit.TaggedItem"), "{}", warning.message);
        // Without content types to name the model by, the relation cannot be told apart: left out.
        let lowered = tagged(false);
        assert!(lowered.yaml.contains("      # tags: skipped: the manifest would not validate"), "{}", lowered.yaml);
        assert!(lowered.warnings.iter().any(|w| w.at == "shop.Photo.tags" && w.message.contains("E302")), "{:?}", lowered.warnings);
    }
}
