//! The SQL of a table's parts in each dialect: column definitions, defaults, `CHECK` constraints
//! and the full-text index.

use super::dialect::{self, ident, Dialect};
use crate::ir::{CheckOperand, DefaultValue, Field, FieldKind, Ir, Model, ModelCheck, PkKind, ScalarKind, TextFormat};

/// The full-text index of a model's `search` fields: an FTS5 table on SQLite, a GIN index on
/// PostgreSQL.
pub fn fts_table(m: &Model, d: Dialect) -> String {
    match d {
        Dialect::Sqlite => format!("{}_fts", m.table),
        Dialect::Postgres => format!("{}_search", m.table),
    }
}

/// The text PostgreSQL's search index covers: the `search` fields' columns, qualified by `alias`
/// when given. The runtime matches against the same expression, so the index serves it.
pub fn search_document(columns: &[&str], alias: Option<&str>) -> String {
    let column = |c: &str| match alias {
        Some(a) => format!("{a}.{}", ident(c)),
        None => ident(c),
    };
    let parts: Vec<String> = columns.iter().map(|c| format!("coalesce({}, '')", column(c))).collect();
    format!("to_tsvector('simple', {})", parts.join(" || ' ' || "))
}

/// An FTS5 index over the table's own rows (external content, keyed by the integer primary key,
/// which is the rowid) and the triggers that keep it in step with every write.
pub(super) fn search_index(m: &Model, d: Dialect) -> Vec<String> {
    let name = fts_table(m, d);
    let fts = ident(&name);
    let table = ident(&m.table);
    let pk = ident(&m.pk_field().column);
    let cols: Vec<&str> = m.search.iter().map(|&i| m.fields[i].column.as_str()).collect();
    if d == Dialect::Postgres {
        return vec![format!("CREATE INDEX {fts} ON {table} USING GIN ({});", search_document(&cols, None))];
    }
    let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
    let values = |row: &str| cols.iter().map(|c| format!("{row}.{}", ident(c))).collect::<Vec<_>>().join(", ");
    let insert = format!("INSERT INTO {fts} (rowid, {list}) VALUES (new.{pk}, {});", values("new"));
    let delete = format!("INSERT INTO {fts} ({fts}, rowid, {list}) VALUES ('delete', old.{pk}, {});", values("old"));
    // FTS5 reads its options' values as names, so they are quoted as SQL strings.
    let option = |v: &str| sql_string(v);
    let trigger = |event: &str| ident(&format!("{name}_{event}"));
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5({list}, content={}, content_rowid={});",
            option(&m.table),
            option(&m.pk_field().column)
        ),
        format!("CREATE TRIGGER {} AFTER INSERT ON {table} BEGIN\n    {insert}\nEND;", trigger("insert")),
        format!("CREATE TRIGGER {} AFTER DELETE ON {table} BEGIN\n    {delete}\nEND;", trigger("delete")),
        format!("CREATE TRIGGER {} AFTER UPDATE ON {table} BEGIN\n    {delete}\n    {insert}\nEND;", trigger("update")),
    ]
}

/// A column's line in `CREATE TABLE`.
pub(super) fn column(f: &Field, table: &str, d: Dialect) -> String {
    if d == Dialect::Postgres {
        return pg_column(f, table);
    }
    let c = ident(&f.column);
    let mut parts = vec![c.clone()];
    match &f.kind {
        // INTEGER PRIMARY KEY makes the column SQLite's rowid, which AUTOINCREMENT keeps from reusing.
        FieldKind::PrimaryKey(crate::ir::PkKind::Uuid) => parts.push("TEXT PRIMARY KEY NOT NULL".into()),
        FieldKind::PrimaryKey(crate::ir::PkKind::Text { max_length }) => parts.push(format!("VARCHAR({max_length}) PRIMARY KEY NOT NULL")),
        // A key the client gives: still SQLite's rowid, never numbered by the database.
        FieldKind::PrimaryKey(crate::ir::PkKind::Integer { .. }) => parts.push("INTEGER PRIMARY KEY NOT NULL".into()),
        FieldKind::PrimaryKey(_) => parts.push("INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".into()),
        _ => {
            parts.push(f.types.sql.clone());
            if !f.nullable {
                parts.push("NOT NULL".into());
            }
            if f.unique {
                parts.push("UNIQUE".into());
            }
        }
    }
    if let Some(sql) = default_sql(f, d) {
        parts.push(format!("DEFAULT {sql}"));
    }
    match &f.kind {
        FieldKind::ForeignKey { target_table, target_column, on_delete, .. } => {
            parts.push(format!("REFERENCES {} ({}) ON DELETE {}", ident(target_table), ident(target_column), on_delete.sql()));
        }
        FieldKind::Scalar(ScalarKind::Enum { values, .. }) => {
            let list = values.iter().map(|v| sql_string(v)).collect::<Vec<_>>().join(", ");
            parts.push(format!("CHECK ({c} IN ({list}))"));
        }
        FieldKind::Scalar(ScalarKind::Json) => parts.push(format!("CHECK (json_valid({c}))")),
        _ => {}
    }
    parts.join(" ")
}

/// A column's line in PostgreSQL's `CREATE TABLE`, its constraints named so later migrations can
/// drop them.
fn pg_column(f: &Field, table: &str) -> String {
    let c = &ident(&f.column);
    let ty = Dialect::Postgres.column_type(&f.kind);
    let mut parts = vec![c.clone(), ty.clone()];
    match &f.kind {
        FieldKind::PrimaryKey(PkKind::Auto | PkKind::BigAuto) => parts.push("GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY".into()),
        FieldKind::PrimaryKey(PkKind::Text { .. } | PkKind::Uuid | PkKind::Integer { .. }) => parts.push("PRIMARY KEY".into()),
        _ => {
            if !f.nullable {
                parts.push("NOT NULL".into());
            }
        }
    }
    if let Some(sql) = default_sql(f, Dialect::Postgres) {
        parts.push(format!("DEFAULT {sql}"));
    }
    if f.unique && !matches!(f.kind, FieldKind::PrimaryKey(_)) {
        parts.push(format!("CONSTRAINT {} UNIQUE", ident(&dialect::unique_constraint(table, std::slice::from_ref(&f.column)))));
    }
    match &f.kind {
        FieldKind::ForeignKey { target_table, target_column, on_delete, .. } => parts.push(format!(
            "CONSTRAINT {} REFERENCES {} ({}) ON DELETE {}",
            ident(&dialect::foreign_key_constraint(table, &f.column)),
            ident(target_table),
            ident(target_column),
            on_delete.sql()
        )),
        FieldKind::Scalar(ScalarKind::Enum { values, .. }) => {
            let list = values.iter().map(|v| sql_string(v)).collect::<Vec<_>>().join(", ");
            parts.push(format!("CONSTRAINT {} CHECK ({c} IN ({list}))", ident(&dialect::allowed_constraint(table, &f.column))));
        }
        _ => {}
    }
    parts.join(" ")
}

/// The column's SQL `DEFAULT` expression, if it has one.
pub(super) fn default_sql(f: &Field, d: Dialect) -> Option<String> {
    match (f.default.as_ref()?, &f.kind) {
        (DefaultValue::Literal { sql, .. }, _) => Some(sql.clone()),
        (DefaultValue::Now, FieldKind::Scalar(ScalarKind::Date)) => Some("CURRENT_DATE".into()),
        (DefaultValue::Now, FieldKind::Scalar(ScalarKind::Time)) => Some("CURRENT_TIME".into()),
        (DefaultValue::Now, _) => Some("CURRENT_TIMESTAMP".into()),
        // SQLite has no UUID function; the server generates them (and PostgreSQL for other writers).
        (DefaultValue::NewUuid, _) => (d == Dialect::Postgres).then(|| "gen_random_uuid()".into()),
    }
}

/// A named `CHECK` constraint and what a client is told when a write breaks it.
pub struct Check {
    pub name: String,
    pub sql: String,
    /// The API field it is reported on.
    pub field: String,
    pub message: String,
}

/// The `CHECK` constraints of a model's validation rules, one per constrained field.
pub fn checks(m: &Model, d: Dialect) -> Vec<Check> {
    let mut out = Vec::new();
    for f in &m.fields {
        let c = &ident(&f.column);
        // A key the client gives is never empty; its length is checked with the table's other
        // rules, under a name a later migration can drop when the length changes.
        if let FieldKind::PrimaryKey(PkKind::Text { max_length }) = f.kind {
            let length = match d {
                Dialect::Sqlite => "length",
                Dialect::Postgres => "char_length",
            };
            out.push(Check {
                name: format!("{}_{}_check", m.table, f.column),
                sql: format!("{length}({c}) BETWEEN 1 AND {max_length}"),
                field: f.graphql_name.clone(),
                message: format!("`{}` must be 1 to {max_length} characters", f.graphql_name),
            });
        }
        // A number the client gives as the key holds the range of its type and rules.
        if let FieldKind::PrimaryKey(PkKind::Integer { big }) = f.kind {
            let min = f.rules.min.clone().or_else(|| (!big).then(|| i32::MIN.to_string()));
            let max = f.rules.max.clone().or_else(|| (!big).then(|| i32::MAX.to_string()));
            let bounds: Vec<String> =
                [min.map(|n| format!("{c} >= {n}")), max.map(|n| format!("{c} <= {n}"))].into_iter().flatten().collect();
            if !bounds.is_empty() {
                out.push(Check {
                    name: format!("{}_{}_check", m.table, f.column),
                    sql: bounds.join(" AND "),
                    field: f.graphql_name.clone(),
                    message: format!("`{}` is out of range", f.graphql_name),
                });
            }
        }
        let FieldKind::Scalar(s) = &f.kind else { continue };
        let r = &f.rules;
        let mut conds: Vec<String> = Vec::new();
        let mut says: Vec<String> = Vec::new();
        match s {
            ScalarKind::String { max_length, format } => {
                conds.push(format!("length({c}) <= {max_length}"));
                says.push(format!("at most {max_length} characters"));
                match format {
                    TextFormat::Plain => {}
                    TextFormat::Email => {
                        conds.push(format!("{c} LIKE '%_@_%'"));
                        says.push("an email address".into());
                    }
                    TextFormat::Url => {
                        conds.push(format!("({c} LIKE 'http://_%' OR {c} LIKE 'https://_%')"));
                        says.push("an http(s) URL".into());
                    }
                    TextFormat::Slug => {
                        conds.push(match d {
                            Dialect::Sqlite => format!("{c} <> '' AND {c} NOT GLOB '*[^a-z0-9_-]*'"),
                            Dialect::Postgres => format!("{c} <> '' AND {c} !~ '[^a-z0-9_-]'"),
                        });
                        says.push("a slug".into());
                    }
                }
            }
            ScalarKind::Integer => {
                let min = r.min.clone().unwrap_or_else(|| i32::MIN.to_string());
                let max = r.max.clone().unwrap_or_else(|| i32::MAX.to_string());
                conds.push(format!("{c} BETWEEN {min} AND {max}"));
                says.push(format!("between {min} and {max}"));
            }
            ScalarKind::BigInteger | ScalarKind::Float | ScalarKind::Decimal { .. } => {
                let value = if matches!(s, ScalarKind::Decimal { .. }) { d.decimal_value(c) } else { c.clone() };
                if let Some(min) = &r.min {
                    conds.push(format!("{value} >= {min}"));
                    says.push(format!("at least {min}"));
                }
                if let Some(max) = &r.max {
                    conds.push(format!("{value} <= {max}"));
                    says.push(format!("at most {max}"));
                }
            }
            _ => {}
        }
        if let Some(n) = r.min_length {
            conds.push(format!("length({c}) >= {n}"));
            says.push(format!("at least {n} characters"));
        }
        if r.non_empty {
            conds.push(format!("length(trim({c})) > 0"));
            says.push("not empty".into());
        }
        if !r.choices.is_empty() {
            conds.push(format!("{c} IN ({})", r.choices.iter().map(|v| sql_string(v)).collect::<Vec<_>>().join(", ")));
            says.push(format!("one of {}", r.choices.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")));
        }
        if conds.is_empty() {
            continue;
        }
        let field = f.graphql_name.clone();
        out.push(Check {
            name: format!("{}_{}_check", m.table, f.column),
            sql: conds.join(" AND "),
            message: format!("`{field}` must be {}", says.join(", ")),
            field,
        });
    }
    for check in &m.checks {
        let side = |f: &Field| match f.kind {
            FieldKind::Scalar(ScalarKind::Decimal { .. }) => d.decimal_value(&ident(&f.column)),
            _ => ident(&f.column),
        };
        let left = &m.fields[check.left];
        let right = match &check.right {
            CheckOperand::Field(r) => side(&m.fields[*r]),
            CheckOperand::Literal { sql, .. } => sql.clone(),
        };
        out.push(Check {
            name: model_check_name(m, check),
            sql: format!("{} {} {right}", side(left), check.op.symbol()),
            field: left.graphql_name.clone(),
            message: check.message.clone(),
        });
    }
    out
}

/// The constraint name of a model-level check.
pub fn model_check_name(m: &Model, check: &ModelCheck) -> String {
    format!("{}_{}_check", m.table, check.name)
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Every model's checks as `(constraint, field, message literal)` for the generated lookup.
pub fn check_failures(ir: &Ir) -> Vec<(String, String, String)> {
    // Constraint names and fields are the same in every dialect.
    ir.models.iter().flat_map(|m| checks(m, Dialect::Sqlite)).map(|c| (c.name, c.field, format!("{:?}", c.message))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_of_a_field_is_a_named_check_with_its_message() {
        let ir = super::super::common::blog();
        let post = ir.model("Post").unwrap();
        let pg = checks(post, Dialect::Postgres);
        let title = pg.iter().find(|c| c.name == "posts_title_check").unwrap();
        assert_eq!(title.sql, "length(title) <= 200 AND length(trim(title)) > 0");
        assert_eq!(title.message, "`title` must be at most 200 characters, not empty");
        let slug = pg.iter().find(|c| c.name == "posts_slug_check").unwrap();
        assert!(slug.sql.contains("slug !~ '[^a-z0-9_-]'"), "{}", slug.sql);
        let sqlite_slug = checks(post, Dialect::Sqlite).into_iter().find(|c| c.name == "posts_slug_check").unwrap();
        assert!(sqlite_slug.sql.contains("slug NOT GLOB '*[^a-z0-9_-]*'"), "{}", sqlite_slug.sql);
    }

    #[test]
    fn the_search_document_quotes_its_columns() {
        assert_eq!(
            search_document(&["title", "user"], Some("t0")),
            "to_tsvector('simple', coalesce(t0.title, '') || ' ' || coalesce(t0.\"user\", ''))"
        );
        assert_eq!(search_document(&["body"], None), "to_tsvector('simple', coalesce(body, ''))");
    }
}
