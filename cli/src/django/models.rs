//! One Django model lowered to a manifest model: its table, key, fields and model options
//! (ordering, indexes, unique groups), each entry written or left as a comment with the reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::dump::Model;
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
