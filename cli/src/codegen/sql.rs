//! The initial migration: CREATE TABLE statements for SQLite, and their reversal.

use crate::ir::{DefaultValue, Field, FieldKind, Ir, Model, ScalarKind};

/// `(up.sql statements, down.sql statements)`.
pub fn initial_migration(ir: &Ir) -> (Vec<String>, Vec<String>) {
    let mut up = Vec::new();
    let mut down = Vec::new();
    for m in &ir.models {
        up.push(create_table(m));
        up.extend(m.indexes.iter().map(|i| {
            let unique = if i.unique { "UNIQUE " } else { "" };
            format!("CREATE {unique}INDEX {} ON {} ({});", i.name, m.table, i.columns.join(", "))
        }));
        down.push(format!("DROP TABLE IF EXISTS {};", m.table));
    }
    for j in &ir.join_tables {
        let source = model(ir, &j.source_model);
        let target = model(ir, &j.target_model);
        up.push(format!(
            "CREATE TABLE {table} (\n    {sc} {st} NOT NULL REFERENCES {stable} ({spk}) ON DELETE CASCADE,\n    {tc} {tt} NOT NULL REFERENCES {ttable} ({tpk}) ON DELETE CASCADE,\n    PRIMARY KEY ({sc}, {tc})\n);",
            table = j.table,
            sc = j.source_column,
            st = source.pk_field().types.sql,
            stable = source.table,
            spk = source.pk_field().column,
            tc = j.target_column,
            tt = target.pk_field().types.sql,
            ttable = target.table,
            tpk = target.pk_field().column,
        ));
        // The primary key serves lookups by the source column; the reverse direction needs its own index.
        up.push(format!("CREATE INDEX {t}_{c}_idx ON {t} ({c});", t = j.table, c = j.target_column));
        down.push(format!("DROP TABLE IF EXISTS {};", j.table));
    }
    // Drop dependants first: join tables, then models in reverse declaration order.
    down.reverse();
    (up, down)
}

fn model<'a>(ir: &'a Ir, name: &str) -> &'a Model {
    ir.model(name).expect("validated relation target")
}

fn create_table(m: &Model) -> String {
    let mut lines: Vec<String> = m.fields.iter().map(column).collect();
    for group in &m.unique_together {
        lines.push(format!("UNIQUE ({})", group.join(", ")));
    }
    format!("CREATE TABLE {} (\n    {}\n);", m.table, lines.join(",\n    "))
}

fn column(f: &Field) -> String {
    let mut parts = vec![f.column.clone()];
    match &f.kind {
        // INTEGER PRIMARY KEY makes the column SQLite's rowid, which AUTOINCREMENT keeps from reusing.
        FieldKind::PrimaryKey(crate::ir::PkKind::Uuid) => parts.push("TEXT PRIMARY KEY NOT NULL".into()),
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
    if let Some(d) = &f.default {
        let sql = match (d, &f.kind) {
            (DefaultValue::Literal { sql, .. }, _) => Some(sql.clone()),
            (DefaultValue::Now, FieldKind::Scalar(ScalarKind::Date)) => Some("CURRENT_DATE".into()),
            (DefaultValue::Now, FieldKind::Scalar(ScalarKind::Time)) => Some("CURRENT_TIME".into()),
            (DefaultValue::Now, _) => Some("CURRENT_TIMESTAMP".into()),
            // SQLite has no UUID function; the server generates them.
            (DefaultValue::NewUuid, _) => None,
        };
        if let Some(sql) = sql {
            parts.push(format!("DEFAULT {sql}"));
        }
    }
    match &f.kind {
        FieldKind::ForeignKey { target_table, target_column, on_delete, .. } => {
            parts.push(format!("REFERENCES {target_table} ({target_column}) ON DELETE {}", on_delete.sql()));
        }
        FieldKind::Scalar(ScalarKind::Enum { values, .. }) => {
            let list = values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ");
            parts.push(format!("CHECK ({} IN ({list}))", f.column));
        }
        FieldKind::Scalar(ScalarKind::Json) => parts.push(format!("CHECK (json_valid({}))", f.column)),
        _ => {}
    }
    parts.join(" ")
}
