//! Relations between models: targets, reverse fields, join tables and explicit `through` models.

use super::*;

impl Validator<'_> {
    pub(super) fn relations(&mut self, raw: &RawManifest, models: &mut [Model], metas: &BTreeMap<String, ModelMeta>) -> Vec<JoinTable> {
        let mut join_tables = Vec::new();
        let mut reverses: Vec<(String, Reverse, Vec<String>)> = Vec::new();
        for model in models.iter_mut() {
            for f in &model.fields {
                if let FieldKind::ForeignKey { target, related_name: Some(rn), one_to_one, .. } = &f.kind {
                    let kind = if *one_to_one {
                        ReverseKind::OneToOne { column: f.column.clone() }
                    } else {
                        ReverseKind::ForeignKey { column: f.column.clone() }
                    };
                    let path = vec!["models".into(), model.name.clone(), "fields".into(), f.name.clone(), "related_name".into()];
                    reverses.push((
                        target.clone(),
                        Reverse { name: rn.clone(), graphql_name: to_camel(rn), source_model: model.name.clone(), kind },
                        path,
                    ));
                }
            }
            if let Some(link @ ParentLink { related_name: Some(rn), .. }) = &model.parent {
                let path = vec!["models".into(), model.name.clone(), "fields".into(), link.name.clone(), "related_name".into()];
                let kind = ReverseKind::OneToOne { column: model.pk_field().column.clone() };
                reverses.push((
                    link.target.clone(),
                    Reverse { name: rn.clone(), graphql_name: to_camel(rn), source_model: model.name.clone(), kind },
                    path,
                ));
            }
            for m in model.many_to_many.iter_mut() {
                let fpath = ["models", model.name.as_str(), "fields", m.name.as_str()];
                if let Some(through) = m.through.clone() {
                    match self.through(&fpath, &model.name, &m.target, &through, raw, metas) {
                        Some((table, source_column, target_column)) => {
                            m.join_table = table;
                            m.source_column = source_column;
                            m.target_column = target_column;
                        }
                        None => continue,
                    }
                } else {
                    join_tables.push(JoinTable {
                        table: m.join_table.clone(),
                        source_model: model.name.clone(),
                        source_column: m.source_column.clone(),
                        target_model: m.target.clone(),
                        target_column: m.target_column.clone(),
                    });
                }
                if let Some(rn) = &m.related_name {
                    let kind = ReverseKind::ManyToMany {
                        join_table: m.join_table.clone(),
                        here_column: m.target_column.clone(),
                        there_column: m.source_column.clone(),
                    };
                    let path = vec!["models".into(), model.name.clone(), "fields".into(), m.name.clone(), "related_name".into()];
                    reverses.push((
                        m.target.clone(),
                        Reverse { name: rn.clone(), graphql_name: to_camel(rn), source_model: model.name.clone(), kind },
                        path,
                    ));
                }
            }
        }
        for (target, reverse, path) in reverses {
            let Some(model) = models.iter_mut().find(|m| m.name == target) else { continue };
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            let taken = model.fields.iter().any(|f| f.name == reverse.name || f.graphql_name == reverse.graphql_name)
                || model.many_to_many.iter().any(|m| m.name == reverse.name)
                || model.reverse.iter().any(|r| r.name == reverse.name);
            if !names::is_field_ident(&reverse.name) || names::reserved_field_name(&reverse.name).is_some() {
                self.error(
                    Code::InvalidName,
                    self.value(&path),
                    format!("related name `{}` is not a usable field name", reverse.name),
                    "use a snake_case name such as `posts`",
                );
            } else if taken {
                self.error(
                    Code::NameClash,
                    self.value(&path),
                    format!("related name `{}` clashes with a field already on `{target}`", reverse.name),
                    format!("choose another `related_name`, e.g. `{}_{}`", to_snake(&reverse.source_model), reverse.name),
                );
            } else {
                model.reverse.push(reverse);
            }
        }
        join_tables
    }

    /// Checks an explicit through model: it must exist and hold foreign keys to both sides.
    pub(super) fn through(
        &mut self,
        fpath: &[&str; 4],
        source: &str,
        target: &str,
        through: &str,
        raw: &RawManifest,
        metas: &BTreeMap<String, ModelMeta>,
    ) -> Option<(String, String, String)> {
        let span = self.value(&[fpath[0], fpath[1], fpath[2], fpath[3], "through"]);
        let Some(tm) = raw.models.get(through) else {
            let help = did_you_mean(through, raw.models.keys().map(String::as_str))
                .unwrap_or_else(|| "declare the through model, or remove `through:` to let gqlauto create the join table".into());
            self.error(Code::UnknownModel, span, format!("through model `{through}` does not exist"), help);
            return None;
        };
        let fk_to = |model: &str| {
            tm.fields.iter().find_map(|(n, f)| {
                let s = f.spec();
                (matches!(s.ty.as_str(), "foreign_key" | "one_to_one") && s.to.as_deref() == Some(model))
                    .then(|| s.column.clone().unwrap_or_else(|| format!("{}_id", to_snake(n))))
            })
        };
        let (src, dst) = (fk_to(source), fk_to(target));
        let mut missing = Vec::new();
        if src.is_none() {
            missing.push(source);
        }
        if dst.is_none() && target != source {
            missing.push(target);
        }
        if !missing.is_empty() {
            self.error(
                Code::Relation,
                span,
                format!(
                    "through model `{through}` has no foreign key to {}",
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ")
                ),
                format!(
                    "add to `{through}` a field like `{}: {{ type: foreign_key, to: {}, on_delete: cascade }}`",
                    to_snake(missing[0]),
                    missing[0]
                ),
            );
            return None;
        }
        let table = metas.get(through).map(|m| m.table.clone())?;
        Some((table, src?, dst.or_else(|| fk_to(target))?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{assert_error, errors};
    use crate::diag::Code;

    const AUTHOR: &str = "  Author: { fields: { id: auto, name: string } }\n";

    #[test]
    fn related_names_are_usable_and_free_on_the_target() {
        let bad = errors(&format!("models:\n{AUTHOR}  Book: {{ fields: {{ id: auto, author: {{ type: foreign_key, to: Author, on_delete: cascade, related_name: type }} }} }}\n"));
        assert_error(&bad, Code::InvalidName, "related name `type` is not a usable field name");
        let taken = errors(&format!("models:\n{AUTHOR}  Book: {{ fields: {{ id: auto, author: {{ type: foreign_key, to: Author, on_delete: cascade, related_name: name }} }} }}\n"));
        assert_error(&taken, Code::NameClash, "related name `name` clashes with a field already on `Author`");
    }

    #[test]
    fn a_through_model_exists_and_links_both_ends() {
        let missing = errors(&format!(
            "models:\n{AUTHOR}  Book: {{ fields: {{ id: auto, authors: {{ type: many_to_many, to: Author, through: Credit }} }} }}\n"
        ));
        assert_error(&missing, Code::UnknownModel, "through model `Credit` does not exist");
        let half = errors(&format!(
            "models:\n{AUTHOR}  Book: {{ fields: {{ id: auto, title: string, authors: {{ type: many_to_many, to: Author, through: Credit }} }} }}\n  \
             Credit: {{ fields: {{ id: auto, book: {{ type: foreign_key, to: Book, on_delete: cascade }} }} }}\n"
        ));
        assert_error(&half, Code::Relation, "through model `Credit` has no foreign key to `Author`");
    }
}
