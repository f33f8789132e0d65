//! The model tables of the data-driven engine: each model as one static `Model` value (see the
//! generated `runtime::model`), written as Rust source here so the template only places it.

use super::common::input_name;
use super::dialect::ident;
use super::view::ModelView;
use super::write_values::{float_lit, range, sql_literal, text_rules, SqlLiteral};
use crate::ir::names::to_screaming;
use crate::ir::{DefaultValue, Field, FieldKind, Grant, Ir, JoinScope, Model, PkKind, ReverseKind, Rules, ScalarKind, TextFormat};

/// The name of a model's static table (`POST`).
pub fn static_name(m: &Model) -> String {
    to_screaming(&m.snake)
}

fn path(ir: &Ir, model: &str) -> String {
    let m = ir.models.iter().find(|m| m.name == model).expect("validated: relation targets exist");
    format!("&crate::models::{}::{}", m.snake, static_name(m))
}

fn key_kind(pk: PkKind) -> &'static str {
    pk.runtime()
}

fn value_type(f: &Field) -> String {
    match &f.kind {
        FieldKind::PrimaryKey(pk) => format!("ValueType::Key({})", key_kind(*pk)),
        FieldKind::ForeignKey { target_pk, .. } => format!("ValueType::Key({})", key_kind(*target_pk)),
        FieldKind::Scalar(s) => match s {
            ScalarKind::Integer => "ValueType::Int".into(),
            ScalarKind::BigInteger => "ValueType::BigInt".into(),
            ScalarKind::Float => "ValueType::Float".into(),
            ScalarKind::Decimal { decimal_places, .. } => format!("ValueType::Decimal({decimal_places})"),
            ScalarKind::Boolean => "ValueType::Boolean".into(),
            ScalarKind::String { .. } | ScalarKind::Text => "ValueType::Text".into(),
            ScalarKind::Date => "ValueType::Date".into(),
            ScalarKind::DateTime => "ValueType::DateTime".into(),
            ScalarKind::Time => "ValueType::Time".into(),
            ScalarKind::Uuid => "ValueType::Uuid".into(),
            ScalarKind::Json => "ValueType::Json".into(),
            ScalarKind::Enum { values, .. } => {
                let pairs: Vec<String> = values.iter().map(|v| format!("(\"{}\", \"{v}\")", to_screaming(v))).collect();
                format!("ValueType::Enum(&[{}])", pairs.join(", "))
            }
        },
    }
}

/// A decimal bound as a constant (`Decimal::from_parts`, the constructor usable in a static).
fn decimal_const(n: &str) -> String {
    let (int, frac) = n.split_once('.').unwrap_or((n, ""));
    let negative = int.starts_with('-');
    let digits = format!("{}{frac}", int.trim_start_matches('-'));
    let mantissa: u128 = digits.parse().unwrap_or(0);
    format!(
        "rust_decimal::Decimal::from_parts({}, {}, {}, {negative}, {})",
        mantissa as u32,
        (mantissa >> 32) as u32,
        (mantissa >> 64) as u32,
        frac.len()
    )
}

/// How a client's value of this scalar is checked: `Check::...`.
fn check(s: &ScalarKind, r: &Rules) -> String {
    match s {
        ScalarKind::String { .. } | ScalarKind::Text => format!("Check::Text({})", text_rules(s, r)),
        ScalarKind::Integer => {
            let min = r.min.as_deref().map_or("i32::MIN as i64".to_string(), str::to_string);
            let max = r.max.as_deref().map_or("i32::MAX as i64".to_string(), str::to_string);
            format!("Check::Int(check::Range {{ min: Some({min}), max: Some({max}) }})")
        }
        ScalarKind::BigInteger => format!("Check::Int({})", range(r, |n| n.to_string())),
        ScalarKind::Float => format!("Check::Float({})", range(r, float_lit)),
        ScalarKind::Decimal { max_digits, decimal_places } => format!(
            "Check::Decimal(check::Digits {{ max_digits: {max_digits}, places: {decimal_places}, range: {} }})",
            range(r, decimal_const)
        ),
        _ => "Check::None".into(),
    }
}

/// What an omitted value does on create: `Absent::...`.
fn absent(m: &Model, f: &Field) -> String {
    match &f.default {
        Some(DefaultValue::Now) => "Absent::Now".into(),
        Some(DefaultValue::NewUuid) => "Absent::NewUuid".into(),
        // The column's SQL `DEFAULT` applies, except on tables gqlauto does not manage.
        Some(DefaultValue::Literal { .. }) if m.managed => "Absent::Default".into(),
        Some(DefaultValue::Literal { sql, .. }) => match sql_literal(sql) {
            SqlLiteral::Text(text) => format!("Absent::Text({text:?})"),
            SqlLiteral::Int(n) => format!("Absent::Int({n})"),
            SqlLiteral::Float(n) => format!("Absent::Float({})", float_lit(&n)),
        },
        None if f.nullable => "Absent::Null".into(),
        None => "Absent::Required".into(),
    }
}

/// How writes treat the field: `Write::...`.
fn write(m: &Model, f: &Field) -> String {
    match &f.kind {
        FieldKind::PrimaryKey(_) if m.parent.is_some() => "Write::Extends".into(),
        FieldKind::PrimaryKey(PkKind::Uuid) => "Write::NewUuid".into(),
        FieldKind::PrimaryKey(PkKind::Text { max_length }) => {
            let s = ScalarKind::String { max_length: *max_length, format: TextFormat::Plain };
            format!("Write::Named({})", check(&s, &Rules { non_empty: true, ..f.rules.clone() }))
        }
        FieldKind::PrimaryKey(PkKind::Integer { big }) => {
            let number = if *big { ScalarKind::BigInteger } else { ScalarKind::Integer };
            format!("Write::Named({})", check(&number, &f.rules))
        }
        FieldKind::PrimaryKey(_) => "Write::Auto".into(),
        FieldKind::ForeignKey { .. } => "Write::Reference".into(),
        FieldKind::Scalar(s) => format!("Write::Value {{ check: {}, absent: {} }}", check(s, &f.rules), absent(m, f)),
    }
}

fn relation(name: &str, connection: bool, target: String, kind: String) -> String {
    let connection = if connection { format!("Some(\"{name}Connection\")") } else { "None".into() };
    format!("Relation {{ name: \"{name}\", connection: {connection}, target: {target}, kind: {kind} }}")
}

/// `pub static POST: Model = Model { ... };` for `m`.
pub fn model_table(ir: &Ir, m: &Model, view: &ModelView) -> String {
    let read = &view.read;
    let pk = m.pk_field();
    let pk_kind = match pk.kind {
        FieldKind::PrimaryKey(k) => k,
        _ => PkKind::Auto,
    };
    let fields: Vec<String> = m
        .fields
        .iter()
        .map(|f| {
            format!(
                "Field {{ name: \"{}\", column: \"{}\", value: {}, nullable: {}, write: {} }}",
                input_name(f),
                f.column,
                value_type(f),
                f.nullable,
                write(m, f)
            )
        })
        .collect();
    let mut relations = Vec::new();
    for f in &m.fields {
        if let FieldKind::ForeignKey { target, .. } = &f.kind {
            let kind = format!("RelationKind::ToOne {{ column: \"{}\", nullable: {} }}", f.column, f.nullable);
            relations.push(relation(&f.graphql_name, false, path(ir, target), kind));
        }
    }
    if let Some(link) = &m.parent {
        let kind = format!("RelationKind::ToOne {{ column: \"{}\", nullable: false }}", pk.column);
        relations.push(relation(&link.graphql_name, false, path(ir, &link.target), kind));
    }
    for rel in &m.many_to_many {
        let kind = join_kind(&rel.join_table, &rel.source_column, &rel.target_column, rel.scope.as_ref());
        relations.push(relation(&rel.graphql_name, true, path(ir, &rel.target), kind));
    }
    for r in &m.reverse {
        let (connection, kind) = match &r.kind {
            ReverseKind::OneToOne { column } => (false, format!("RelationKind::Reverse {{ column: \"{column}\" }}")),
            ReverseKind::ForeignKey { column } => (true, format!("RelationKind::ToMany {{ column: \"{column}\" }}")),
            ReverseKind::ManyToMany { join_table, here_column, there_column, scope } => {
                (true, join_kind(join_table, here_column, there_column, scope.as_ref()))
            }
        };
        relations.push(relation(&r.graphql_name, connection, path(ir, &r.source_model), kind));
    }
    let candidates = crate::ir::names::root_fields(m);
    let roots: Vec<String> = view
        .query_resolvers
        .iter()
        .chain(&view.write.resolvers)
        .filter_map(|r| {
            let (_, root, _) = candidates.iter().find(|(name, _, _)| *name == r.sdl.name)?;
            Some(format!("(\"{}\", Root::{root})", r.sdl.name))
        })
        .collect();
    let list = |items: &[String]| if items.is_empty() { "&[]".to_string() } else { format!("&[\n{},\n]", items.join(",\n")) };
    let columns: Vec<String> = m.fields.iter().map(|f| format!("\\\"{}\\\"", f.column)).collect();
    format!(
        "pub static {name}: Model = Model {{\nname: \"{model}\",\ntable: \"{table}\",\nkey: \"{key}\",\nkey_kind: {kind},\nfields: {fields},\nrelations: {relations},\ndefault_order: {order},\nsearch: {search},\nmeasures: {measures},\nroots: {roots},\nreferences: {references},\nunique_keys: {unique_keys},\nrules: {rules},\ncolumns: \"{columns}\",\naccess: {access},\n}};",
        name = static_name(m),
        model = m.name,
        table = m.table,
        key = pk.column,
        kind = key_kind(pk_kind),
        fields = list(&fields),
        relations = list(&relations),
        order = list(&read.default_order),
        search = read.search_table,
        measures = list(&read.measures),
        roots = list(&roots),
        references = list(&view.write.references),
        unique_keys = list(&view.write.unique_keys),
        rules = list(&view.write.rules),
        columns = columns.join(", "),
        access = access(ir, m),
    )
}

/// For `role`'s reads of `m` rows as the children of rows it may read (through a foreign key):
/// the rule left once the part the parent's own rule guarantees is dropped, per foreign key
/// column, where a part can be dropped (`("post_id", None)`: no condition at all).
fn read_under(ir: &Ir, m: &Model, role: &str) -> Vec<String> {
    let Some(rule) = m.permission(role).and_then(|p| p.read.as_ref()).and_then(|g| g.condition.as_ref()) else { return Vec::new() };
    let mut out = Vec::new();
    for f in &m.fields {
        let FieldKind::ForeignKey { target, .. } = &f.kind else { continue };
        let parent = ir.model(target).and_then(|t| t.permission(role)).and_then(|p| p.read.as_ref()).and_then(|g| g.condition.as_ref());
        if let Some(left) = parent.and_then(|parent| crate::ir::rules::under(rule, &f.graphql_name, parent)) {
            let left = left.map_or("None".to_string(), |v| format!("Some({:?})", v.to_string()));
            out.push(format!("({:?}, {left})", f.column));
        }
    }
    out
}

/// The model's `Access`: open without roles, else its grants per role.
fn access(ir: &Ir, m: &Model) -> String {
    if ir.roles.is_empty() {
        return "Access::Open".into();
    }
    let text = |v: &Option<serde_json::Value>| v.as_ref().map_or("None".to_string(), |v| format!("Some({:?})", v.to_string()));
    let grant = |g: &Option<Grant>, under: &[String]| -> String {
        let Some(g) = g else { return "None".into() };
        let preset: Vec<String> = g.preset.iter().map(|(i, claim)| format!("({:?}, {claim:?})", input_name(&m.fields[*i]))).collect();
        format!(
            "Some(Grant {{ rows: {}, check: {}, preset: &[{}], under: &[{}] }})",
            text(&g.condition),
            text(&g.check),
            preset.join(", "),
            under.join(", ")
        )
    };
    let grants: Vec<String> = m
        .permissions
        .iter()
        .map(|p| {
            format!(
                "Grants {{ role: {:?}, read: {}, create: {}, update: {}, delete: {} }}",
                p.role,
                grant(&p.read, &read_under(ir, m, &p.role)),
                grant(&p.create, &[]),
                grant(&p.update, &[]),
                grant(&p.delete, &[])
            )
        })
        .collect();
    format!("Access::Roles(&[{}])", grants.join(", "))
}

/// A many-to-many relation's kind: through `join_table`, whose `here` column holds this row's key
/// and `there` the related row's, limited to the rows `scope` picks (with the SQL expression of
/// the value they hold, which every database reads alike).
fn join_kind(join_table: &str, here: &str, there: &str, scope: Option<&JoinScope>) -> String {
    let scope = scope
        .map_or_else(|| "None".to_string(), |s| format!("Some(&JoinScope {{ column: \"{}\", value: {:?} }})", s.column, scope_value(s)));
    format!("RelationKind::ManyToMany {{ join_table: \"{join_table}\", here: \"{here}\", there: \"{there}\", scope: {scope} }}")
}

/// `(SELECT id FROM django_content_type WHERE app_label = 'shop' AND model = 'photo')`.
fn scope_value(s: &JoinScope) -> String {
    let literal = |v: &serde_json::Value| match v {
        serde_json::Value::String(text) => format!("'{}'", text.replace('\'', "''")),
        other => other.to_string(),
    };
    let conditions: Vec<String> = s.values.iter().map(|(column, v)| format!("{} = {}", ident(column), literal(v))).collect();
    format!("(SELECT {} FROM {} WHERE {})", ident(&s.key), ident(&s.table), conditions.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::super::{common::blog, crate_view::crate_view};

    #[test]
    fn a_models_static_table_describes_how_each_field_is_read_and_written() {
        let ir = blog();
        let view = crate_view(&ir);
        let post = &view.models[1].table_decl;
        for line in [
            "Field { name: \"id\", column: \"id\", value: ValueType::Key(KeyKind::Int), nullable: false, write: Write::Auto }",
            "Field { name: \"authorId\", column: \"author_id\", value: ValueType::Key(KeyKind::Int), nullable: false, write: Write::Reference }",
            "value: ValueType::Enum(&[(\"DRAFT\", \"draft\"), (\"PUBLISHED\", \"published\")]), nullable: false, write: Write::Value { check: Check::None, absent: Absent::Default } }",
            "value: ValueType::Decimal(2), nullable: true, write: Write::Value { check: Check::Decimal(check::Digits { max_digits: 8, places: 2, range: check::Range::ANY }), absent: Absent::Null } }",
            "Relation { name: \"tags\", connection: Some(\"tagsConnection\"), target: &crate::models::tag::TAG, kind: RelationKind::ManyToMany { join_table: \"posts_tags\", here: \"post_id\", there: \"tag_id\", scope: None } },",
            "(\"upsertPost\", Root::Upsert),",
            "Reference { column: \"author_id\", field: \"authorId\", table: \"authors\", key: \"id\" },",
            "access: Access::Open,",
        ] {
            assert!(post.contains(line), "{line}\nnot in\n{post}");
        }
        assert!(!view.models[0].table_decl.contains("Root::Upsert"), "an author has no key to upsert by");
    }

    #[test]
    fn a_scoped_join_names_its_kind_by_a_subquery_every_database_reads() {
        let scope = crate::ir::JoinScope {
            column: "content_type_id".into(),
            table: "django_content_type".into(),
            key: "id".into(),
            values: vec![("app_label".into(), serde_json::json!("it's")), ("order".into(), serde_json::json!(3))],
        };
        assert_eq!(super::scope_value(&scope), "(SELECT id FROM django_content_type WHERE app_label = 'it''s' AND \"order\" = 3)");
        assert_eq!(
            super::join_kind("tagged", "object_id", "tag_id", None),
            "RelationKind::ManyToMany { join_table: \"tagged\", here: \"object_id\", there: \"tag_id\", scope: None }"
        );
        let kind = super::join_kind("tagged", "object_id", "tag_id", Some(&scope));
        assert!(kind.ends_with("scope: Some(&JoinScope { column: \"content_type_id\", value: \"(SELECT id FROM django_content_type WHERE app_label = 'it''s' AND \\\"order\\\" = 3)\" }) }"), "{kind}");
    }
}
