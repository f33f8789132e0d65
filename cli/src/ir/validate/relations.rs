//! Relations between models: targets, reverse fields, join tables and explicit `through` models.

use super::*;
use crate::manifest::raw::RawField;
use indexmap::IndexMap;

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
                    let spec = raw
                        .models
                        .get(&model.name)
                        .and_then(|rm| rm.fields.iter().find(|(n, _)| to_snake(n) == m.name))
                        .map(|(_, f)| f.spec());
                    let spec = spec.unwrap_or_default();
                    match self.through(&fpath, &model.name, &m.target, &through, &spec, raw, metas) {
                        Some(Through { table, source_column, target_column, scope }) => {
                            m.join_table = table;
                            m.source_column = source_column;
                            m.target_column = target_column;
                            m.scope = scope;
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
                        scope: m.scope.clone(),
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

    /// Checks an explicit through model: it must exist and link both sides, by its foreign keys
    /// or by the two fields `through_fields` names, and `through_where` must pick one row of each
    /// target it names.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn through(
        &mut self,
        fpath: &[&str; 4],
        source: &str,
        target: &str,
        through: &str,
        spec: &RawFieldSpec,
        raw: &RawManifest,
        metas: &BTreeMap<String, ModelMeta>,
    ) -> Option<Through> {
        let option = |name: &'static str| [fpath[0], fpath[1], fpath[2], fpath[3], name];
        let span = self.value(&option("through"));
        let Some(tm) = raw.models.get(through) else {
            let help = did_you_mean(through, raw.models.keys().map(String::as_str))
                .unwrap_or_else(|| "declare the through model, or remove `through:` to let gqlauto create the join table".into());
            self.error(Code::UnknownModel, span, format!("through model `{through}` does not exist"), help);
            return None;
        };
        let table = metas.get(through).map(|m| m.table.clone())?;
        let (source_column, target_column) = match &spec.through_fields {
            Some(names) => self.through_fields(&option("through_fields"), source, target, through, tm, names)?,
            None => self.through_keys(span, source, target, through, tm)?,
        };
        let scope = match &spec.through_where {
            Some(wheres) => Some(self.through_where(&option("through_where"), through, tm, wheres, raw, metas)?),
            None => None,
        };
        Some(Through { table, source_column, target_column, scope })
    }

    /// The through model's foreign keys to `source` and `target`.
    fn through_keys(&mut self, span: Option<Span>, source: &str, target: &str, through: &str, tm: &RawModel) -> Option<(String, String)> {
        let fk_to = |model: &str| {
            tm.fields.iter().find_map(|(n, f)| {
                let s = f.spec();
                (is_link(&s) && s.to.as_deref() == Some(model)).then(|| column_of(n, &s))
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
                    "add to `{through}` a field like `{}: {{ type: foreign_key, to: {}, on_delete: cascade }}`, or name its \
                     two linking fields with `through_fields`",
                    to_snake(missing[0]),
                    missing[0]
                ),
            );
            return None;
        }
        Some((src?, dst.or_else(|| fk_to(target))?))
    }

    /// The two fields `through_fields` names: the first points at `source`'s row (a foreign key
    /// to it, or a plain field holding its key), the second is a foreign key to `target`.
    fn through_fields(
        &mut self,
        path: &[&str; 5],
        source: &str,
        target: &str,
        through: &str,
        tm: &RawModel,
        names: &[String],
    ) -> Option<(String, String)> {
        let span = self.value(path);
        let [here, there] = names else {
            self.error(
                Code::FieldOption,
                span,
                format!("`through_fields` names {} fields; it takes two", names.len()),
                "name the through model's field that points at this model, then the one that points at the target",
            );
            return None;
        };
        let field = |name: &str| tm.fields.iter().find(|(n, _)| n.as_str() == name).map(|(n, f)| (n.clone(), f.spec()));
        let mut columns = Vec::new();
        for (name, end, plain_ok) in [(here, source, true), (there, target, false)] {
            let Some((n, s)) = field(name) else {
                let help =
                    did_you_mean(name, tm.fields.keys().map(String::as_str)).unwrap_or_else(|| format!("name a field of `{through}`"));
                self.error(Code::Relation, span, format!("through model `{through}` has no field `{name}`"), help);
                return None;
            };
            let links = is_link(&s) && s.to.as_deref() == Some(end);
            let holds_key = plain_ok && matches!(s.ty.as_str(), "integer" | "big_integer" | "string" | "slug" | "uuid");
            if !links && !holds_key {
                let what = if plain_ok {
                    "a foreign key to it or a field holding its key (integer, string or uuid)"
                } else {
                    "a foreign key to it"
                };
                self.error(
                    Code::Relation,
                    span,
                    format!("`{through}.{name}` cannot link `{end}`: it is a `{}` field", s.ty),
                    format!("name {what}"),
                );
                return None;
            }
            columns.push(column_of(&n, &s));
        }
        let there = columns.pop()?;
        Some((columns.pop()?, there))
    }

    /// The scope `through_where` gives: one foreign key of the through model, pointing at the row
    /// of its target that a unique key of that model picks.
    fn through_where(
        &mut self,
        path: &[&str; 5],
        through: &str,
        tm: &RawModel,
        wheres: &IndexMap<String, IndexMap<String, serde_json::Value>>,
        raw: &RawManifest,
        metas: &BTreeMap<String, ModelMeta>,
    ) -> Option<JoinScope> {
        let span = self.value(path);
        let [(fk, values)] = wheres.iter().collect::<Vec<_>>()[..] else {
            self.error(
                Code::FieldOption,
                span,
                format!("`through_where` names {} foreign keys; it takes one", wheres.len()),
                "name the through model's foreign key that tells which model a row links, e.g. `{ content_type: { app_label: shop, model: photo } }`",
            );
            return None;
        };
        let spec = tm.fields.get(fk).map(RawField::spec);
        let Some((spec, to)) = spec.and_then(|s| s.to.clone().filter(|_| is_link(&s)).map(|to| (s, to))) else {
            self.error(
                Code::Relation,
                span,
                format!("`through_where` names `{fk}`, which is not a foreign key of `{through}`"),
                "name a foreign key of the through model, such as its content type",
            );
            return None;
        };
        let (Some(target), Some(meta)) = (raw.models.get(&to), metas.get(&to)) else { return None };
        let Some((key, _)) = &meta.pk else { return None };
        let mut scope = JoinScope { column: column_of(fk, &spec), table: meta.table.clone(), key: key.clone(), values: Vec::new() };
        for (name, value) in values {
            let Some(f) = target.fields.get(name).map(RawField::spec) else {
                let help = did_you_mean(name, target.fields.keys().map(String::as_str)).unwrap_or_else(|| format!("name fields of `{to}`"));
                self.error(Code::Relation, span, format!("`through_where` names `{to}.{name}`, which does not exist"), help);
                return None;
            };
            if !(value.is_string() || value.is_i64()) || is_link(&f) {
                self.error(
                    Code::Relation,
                    span,
                    format!("`through_where` gives `{to}.{name}` the value {value}"),
                    "give plain fields of the target a string or an integer",
                );
                return None;
            }
            scope.values.push((column_of(name, &f), value.clone()));
        }
        let named: BTreeSet<&str> = values.keys().map(String::as_str).collect();
        let unique = target.fields.iter().any(|(n, f)| {
            let s = f.spec();
            (s.unique || s.primary_key || matches!(s.ty.as_str(), "auto" | "big_auto")) && named.len() == 1 && named.contains(n.as_str())
        }) || target.unique_together.iter().any(|g| g.iter().map(String::as_str).collect::<BTreeSet<_>>() == named);
        if !unique {
            self.error(
                Code::Relation,
                span,
                format!(
                    "the fields `through_where` gives `{to}` ({}) are not a unique key of it",
                    named.iter().copied().collect::<Vec<_>>().join(", ")
                ),
                format!("give a unique field of `{to}`, or the fields of one of its `unique_together` groups"),
            );
            return None;
        }
        Some(scope)
    }
}

/// What an explicit through model links by: its table, the columns that point at this model's
/// and the target's rows, and which of its rows belong to the relation.
pub(super) struct Through {
    table: String,
    source_column: String,
    target_column: String,
    scope: Option<JoinScope>,
}

fn is_link(s: &RawFieldSpec) -> bool {
    matches!(s.ty.as_str(), "foreign_key" | "one_to_one")
}

/// The column of the raw field `name`: as given, else its name (`<name>_id` for a relation).
fn column_of(name: &str, s: &RawFieldSpec) -> String {
    s.column.clone().unwrap_or_else(|| if is_link(s) { format!("{}_id", to_snake(name)) } else { to_snake(name) })
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

    /// A photo tagged through a generic through model: content type + object id + tag.
    fn tagged(photo_tags: &str, extra: &str) -> String {
        format!(
            "models:\n  Kind: {{ fields: {{ id: auto, app: string, name: string, code: {{ type: string, unique: true }} }}, unique_together: [[app, name]] }}\n  \
             Tag: {{ fields: {{ id: auto, name: string }} }}\n  \
             Item: {{ fields: {{ id: auto, tag: {{ type: foreign_key, to: Tag, on_delete: cascade }}, kind: {{ type: foreign_key, to: Kind, on_delete: cascade }}, object_id: integer, flag: boolean{extra} }} }}\n  \
             Photo: {{ fields: {{ id: auto, tags: {{ type: many_to_many, to: Tag, through: Item, {photo_tags} }} }} }}\n"
        )
    }

    #[test]
    fn through_fields_name_two_fields_that_can_link_each_end() {
        assert_eq!(errors(&tagged("through_fields: [object_id, tag]", "")), []);
        let one = errors(&tagged("through_fields: [object_id]", ""));
        assert_error(&one, Code::FieldOption, "`through_fields` names 1 fields; it takes two");
        let unknown = errors(&tagged("through_fields: [object, tag]", ""));
        assert_error(&unknown, Code::Relation, "through model `Item` has no field `object`");
        let flag = errors(&tagged("through_fields: [flag, tag]", ""));
        assert_error(&flag, Code::Relation, "`Item.flag` cannot link `Photo`: it is a `boolean` field");
        let plain_target = errors(&tagged("through_fields: [object_id, object_id]", ""));
        assert_error(&plain_target, Code::Relation, "`Item.object_id` cannot link `Tag`: it is a `integer` field");
        let none = errors(&tagged("related_name: photos", ""));
        assert_error(&none, Code::Relation, "through model `Item` has no foreign key to `Photo`");
    }

    #[test]
    fn through_where_picks_one_row_by_a_unique_key() {
        let ok = "through_fields: [object_id, tag], through_where: { kind: { app: shop, name: photo } }";
        assert_eq!(errors(&tagged(ok, "")), []);
        assert_eq!(errors(&tagged("through_fields: [object_id, tag], through_where: { kind: { code: 7 } }", "")), []);
        let loose = errors(&tagged("through_fields: [object_id, tag], through_where: { kind: { app: shop } }", ""));
        assert_error(&loose, Code::Relation, "the fields `through_where` gives `Kind` (app) are not a unique key of it");
        let plain = errors(&tagged("through_fields: [object_id, tag], through_where: { object_id: { id: 1 } }", ""));
        assert_error(&plain, Code::Relation, "`through_where` names `object_id`, which is not a foreign key of `Item`");
        let two = errors(&tagged("through_fields: [object_id, tag], through_where: { kind: { code: a }, tag: { id: 1 } }", ""));
        assert_error(&two, Code::FieldOption, "`through_where` names 2 foreign keys; it takes one");
        let value = errors(&tagged("through_fields: [object_id, tag], through_where: { kind: { code: [a] } }", ""));
        assert_error(&value, Code::Relation, "`through_where` gives `Kind.code` the value [\"a\"]");
        let missing = errors(&tagged("through_fields: [object_id, tag], through_where: { kind: { app: shop, nam: photo } }", ""));
        assert_error(&missing, Code::Relation, "`through_where` names `Kind.nam`, which does not exist");
        let elsewhere = errors(
            "models:\n  A: { fields: { id: auto, b: { type: foreign_key, to: A, on_delete: cascade, through_where: { k: { x: 1 } } } } }\n",
        );
        assert_error(&elsewhere, Code::FieldOption, "option `through_where` does not apply to type `foreign_key`");
    }

    #[test]
    fn a_scoped_relation_and_its_reverse_carry_the_scope() {
        let source = format!(
            "version: 1\nname: t\n{}",
            tagged("through_fields: [object_id, tag], through_where: { kind: { app: \"it's\", name: photo } }, related_name: photos", "")
        );
        let checked = crate::api::check_source("t.yaml", source, crate::manifest::Format::Yaml);
        let ir = checked.ir.expect("valid");
        let tags = &ir.model("Photo").unwrap().many_to_many[0];
        assert_eq!((tags.join_table.as_str(), tags.source_column.as_str(), tags.target_column.as_str()), ("items", "object_id", "tag_id"));
        let scope = tags.scope.clone().expect("a scope");
        assert_eq!((scope.column.as_str(), scope.table.as_str(), scope.key.as_str()), ("kind_id", "kinds", "id"));
        assert_eq!(scope.values, [("app".to_string(), serde_json::json!("it's")), ("name".to_string(), serde_json::json!("photo"))]);
        let reverse = &ir.model("Tag").unwrap().reverse[0];
        let crate::ir::ReverseKind::ManyToMany { here_column, there_column, scope: back, .. } = &reverse.kind else {
            panic!("{reverse:?}")
        };
        assert_eq!((here_column.as_str(), there_column.as_str(), back.as_ref()), ("tag_id", "object_id", Some(&scope)));
    }
}
