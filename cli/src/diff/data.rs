//! What a manifest change does to the database and the rows already in it.
//!
//! Tables are matched by name and columns by name or `renamed_from`. Grading asks one question:
//! can the migration carry every existing row forward? Breaking: rows or values are lost, or a
//! non-empty table makes the migration fail. Dangerous: it fails only if existing rows happen to
//! break a new rule (duplicates, values outside a new check). Safe: every row carries over.

use std::collections::{BTreeMap, BTreeSet};

use super::change::{Change, ChangeKind as K, Level, Scope};
use crate::codegen::tables::{Column, Reference, Table, Tables};
use crate::ir::{FieldKind, Ir, ScalarKind, TextFormat};

/// Every database change from `old` to `new`.
pub fn diff(old: &Ir, new: &Ir) -> Vec<Change> {
    let (ot, nt) = Tables::pair(old, new, crate::codegen::dialect::Dialect::Sqlite);
    // Old table name → new, so references to a renamed table are not mistaken for new targets.
    let renamed: BTreeMap<&str, &str> = nt.0.values().filter_map(|n| Some((ot.source_of(n)?.name.as_str(), n.name.as_str()))).collect();
    let mut out = Vec::new();
    for n in nt.0.values() {
        match ot.source_of(n) {
            None => out.push(change(K::TableAdded, &n.name, Level::Safe, "a new table holds no rows yet")),
            Some(o) => {
                if o.name != n.name {
                    out.push(change(K::TableRenamed, &n.name, Level::Safe, "rows move with the table").values(Some(o.name.clone()), None));
                }
                table(o, n, &renamed, &mut out);
            }
        }
    }
    for name in ot.0.keys().filter(|t| !renamed.contains_key(t.as_str())) {
        out.push(change(K::TableDropped, name, Level::Breaking, "every row in it is deleted"));
    }
    relations(old, new, &mut out);
    out
}

fn change(kind: K, at: &str, level: Level, reason: &str) -> Change {
    Change::new(kind, Scope::Database, at.to_string(), level, reason)
}

fn table(o: &Table, n: &Table, renamed: &BTreeMap<&str, &str>, out: &mut Vec<Change>) {
    let t = &n.name;
    let mut carried = BTreeSet::new();
    for nc in n.columns.values() {
        let at = format!("{t}.{}", nc.name);
        match o.source_of(nc) {
            Some(oc) => {
                carried.insert(oc.name.clone());
                if oc.name != nc.name {
                    out.push(
                        change(K::ColumnRenamed, &at, Level::Safe, "values move with the column")
                            .values(Some(format!("{t}.{}", oc.name)), None),
                    );
                }
                column(&at, oc, nc, renamed, out);
            }
            None if !nc.nullable && nc.default.is_none() && !nc.primary_key => out.push(
                change(
                    K::ColumnAddedRequired,
                    &at,
                    Level::Breaking,
                    "existing rows have no value for it: the migration fails on a non-empty table; give it a default or make it nullable",
                )
                .values(None, Some(nc.sql_type.clone())),
            ),
            None => out.push(
                change(K::ColumnAdded, &at, Level::Safe, "existing rows get its default or NULL").values(None, Some(nc.sql_type.clone())),
            ),
        }
    }
    for oc in o.columns.values().filter(|c| !carried.contains(&c.name)) {
        out.push(change(K::ColumnDropped, &format!("{t}.{}", oc.name), Level::Breaking, "its values in every row are deleted"));
    }
    let groups = |t: &Table| -> BTreeSet<String> {
        t.unique_groups.iter().map(|g| g.join(", ")).chain(t.unique_indexes.values().map(|c| c.join(", "))).collect()
    };
    let (og, ng) = (groups(o), groups(n));
    for g in ng.difference(&og) {
        out.push(
            change(K::UniqueAdded, t, Level::Dangerous, "the migration fails if existing rows hold duplicates")
                .values(None, Some(format!("({g})"))),
        );
    }
    for g in og.difference(&ng) {
        out.push(change(K::UniqueRemoved, t, Level::Safe, "existing rows stay valid").values(Some(format!("({g})")), None));
    }
    // Constraints are named after their table: a renamed table's keep their meaning under the new name.
    let old_checks: Vec<(String, String)> = o
        .checks
        .iter()
        .map(|(name, sql)| match name.strip_prefix(&format!("{}_", o.name)) {
            Some(rest) => (format!("{}_{rest}", n.name), sql.clone()),
            None => (name.clone(), sql.clone()),
        })
        .collect();
    for (name, sql) in &n.checks {
        // Column rules that narrowed a type were already reported as narrowing.
        let narrowed = out.iter().any(|c| {
            matches!(c.kind, K::ColumnTypeNarrowed | K::ColumnTypeChanged | K::StoredEnumValueRemoved)
                && name.starts_with(&c.coordinate.replace('.', "_"))
        });
        let before = old_checks.iter().find(|(on, _)| on == name).map(|(_, s)| s);
        if before != Some(sql) && !narrowed {
            out.push(
                change(K::CheckAdded, t, Level::Dangerous, "the migration fails if existing rows break it")
                    .values(before.map(|b| format!("{name}: {b}")), Some(format!("{name}: {sql}"))),
            );
        }
    }
    for (name, sql) in old_checks.iter().filter(|(name, _)| !n.checks.iter().any(|(n, _)| n == name)) {
        out.push(change(K::CheckRemoved, t, Level::Safe, "existing rows stay valid").values(Some(format!("{name}: {sql}")), None));
    }
    for name in n.indexes.keys().filter(|i| !o.indexes.contains_key(*i)) {
        out.push(change(K::IndexAdded, t, Level::Safe, "indexes hold no data of their own").values(None, Some(name.clone())));
    }
    for name in o.indexes.keys().filter(|i| !n.indexes.contains_key(*i)) {
        out.push(change(K::IndexRemoved, t, Level::Safe, "indexes hold no data of their own").values(Some(name.clone()), None));
    }
}

/// The reference with the table's new name if it was renamed.
fn follow(reference: &Option<Reference>, renamed: &BTreeMap<&str, &str>) -> Option<Reference> {
    reference
        .as_ref()
        .map(|r| Reference { table: renamed.get(r.table.as_str()).map_or_else(|| r.table.clone(), |t| t.to_string()), ..r.clone() })
}

fn column(at: &str, o: &Column, n: &Column, renamed: &BTreeMap<&str, &str>, out: &mut Vec<Change>) {
    if let Some((level, narrowed)) = type_change(o, n) {
        let kind = if narrowed { K::ColumnTypeNarrowed } else { K::ColumnTypeChanged };
        let reason = match level {
            Level::Safe => "every stored value fits the new type",
            Level::Dangerous => "the migration fails if a stored value does not fit the new type",
            Level::Breaking => "stored values are kept as they are and may not read back as the new type",
        };
        // Where PostgreSQL's in-place conversion does something else, both are said, graded by
        // the worse.
        let (level, reason) = match postgres_type_change(o, n, level) {
            Some((pg_level, pg_reason)) => (level.max(pg_level), format!("SQLite: {reason}; PostgreSQL: {pg_reason}")),
            None => (level, reason.to_string()),
        };
        out.push(change(kind, at, level, &reason).values(Some(describe(o)), Some(describe(n))));
    }
    let old_references = follow(&o.references, renamed);
    if old_references != n.references {
        out.push(
            change(K::ColumnTypeChanged, at, Level::Breaking, "stored keys point at rows of the old target")
                .values(o.references.as_ref().map(|r| format!("references {r}")), n.references.as_ref().map(|r| format!("references {r}"))),
        );
    }
    if o.default != n.default {
        out.push(
            change(K::ColumnDefaultChanged, at, Level::Safe, "stored rows keep their values; only new rows get the new default")
                .values(o.default.clone(), n.default.clone()),
        );
    }
    if old_references == n.references && o.on_delete != n.on_delete {
        out.push(
            change(
                K::ForeignKeyActionChanged,
                at,
                Level::Dangerous,
                "deleting a referenced row now does something else to the rows that point at it",
            )
            .values(o.on_delete.clone(), n.on_delete.clone()),
        );
    }
    match (o.nullable, n.nullable) {
        (true, false) if n.default.is_some() => {
            out.push(change(K::NotNullAdded, at, Level::Dangerous, "stored NULLs are replaced by the column's default"));
        }
        (true, false) => out.push(change(
            K::NotNullAdded,
            at,
            Level::Breaking,
            "the migration fails if any row holds NULL, and the column has no default to fill in",
        )),
        (false, true) => out.push(change(K::NotNullRemoved, at, Level::Safe, "every stored value stays valid")),
        _ => {}
    }
    if n.unique && !o.unique && !n.primary_key {
        out.push(
            change(K::UniqueAdded, at, Level::Dangerous, "the migration fails if existing rows hold duplicates")
                .values(None, Some(format!("({})", n.name))),
        );
    }
    if o.unique && !n.unique && !o.primary_key {
        out.push(change(K::UniqueRemoved, at, Level::Safe, "existing rows stay valid").values(Some(format!("({})", o.name)), None));
    }
    if !n.allowed.is_empty() {
        for v in o.allowed.iter().filter(|v| !n.allowed.contains(v)) {
            out.push(
                change(K::StoredEnumValueRemoved, at, Level::Breaking, "the migration fails if any row holds it")
                    .values(Some(v.clone()), None),
            );
        }
    }
}

fn describe(c: &Column) -> String {
    match &c.scalar {
        Some(ScalarKind::Decimal { max_digits, decimal_places }) => format!("DECIMAL({max_digits}, {decimal_places})"),
        Some(ScalarKind::String { format, .. }) if *format != TextFormat::Plain => {
            format!("{} ({format:?})", c.sql_type).to_lowercase().replace("varchar", "VARCHAR")
        }
        _ => c.sql_type.clone(),
    }
}

/// How a column's type changed: its grade and whether it narrowed; `None` when it did not change.
fn type_change(o: &Column, n: &Column) -> Option<(Level, bool)> {
    use ScalarKind as S;
    let (os, ns) = (o.scalar.as_ref(), n.scalar.as_ref());
    if os == ns || matches!((os, ns), (Some(S::Enum { .. }), Some(S::Enum { .. }))) {
        // Keys keep their type with their target's; enum values are graded one by one.
        return (o.sql_type != n.sql_type).then_some((Level::Breaking, false));
    }
    let (Some(os), Some(ns)) = (os, ns) else { return Some((Level::Breaking, false)) };
    let widen = Some((Level::Safe, false));
    let narrow = Some((Level::Dangerous, true));
    match (os, ns) {
        (S::String { max_length: a, format: fa }, S::String { max_length: b, format: fb }) => {
            if b >= a && (fa == fb || *fb == TextFormat::Plain) {
                widen
            } else {
                narrow
            }
        }
        (S::String { .. } | S::Enum { .. }, S::Text) | (S::Integer, S::BigInteger | S::Float) => widen,
        (S::Text, S::String { .. }) | (S::BigInteger, S::Integer) => narrow,
        (S::Decimal { max_digits: pa, decimal_places: sa }, S::Decimal { max_digits: pb, decimal_places: sb }) => {
            if pb - sb >= pa - sa && sb >= sa {
                widen
            } else {
                narrow
            }
        }
        _ => Some((Level::Breaking, false)),
    }
}

/// How a type change grades on PostgreSQL, where it differs from SQLite's grade `sqlite`.
/// PostgreSQL converts a column in place (`ALTER COLUMN … TYPE … USING`) inside the migration's
/// transaction: a value that does not convert fails the migration and leaves the database as it
/// was (where SQLite's rebuilt table keeps the value as it was stored), but some conversions
/// succeed by rounding or truncating, which changes stored values without an error.
fn postgres_type_change(o: &Column, n: &Column, sqlite: Level) -> Option<(Level, &'static str)> {
    use ScalarKind as S;
    let (Some(os), Some(ns)) = (o.scalar.as_ref(), n.scalar.as_ref()) else { return None };
    let (level, reason) = match (os, ns) {
        (S::Decimal { decimal_places: sa, .. }, S::Decimal { decimal_places: sb, .. }) if sb < sa => {
            (Level::Breaking, "stored values are rounded to the fewer decimal places, without an error")
        }
        (S::Float | S::Decimal { .. }, S::Integer | S::BigInteger) => {
            (Level::Breaking, "stored fractions are rounded to whole numbers, without an error")
        }
        (S::DateTime, S::Date | S::Time) => (Level::Breaking, "stored date-times are cut to their date or time, without an error"),
        _ if sqlite == Level::Breaking && o.sql_type != n.sql_type && os != ns => (
            Level::Dangerous,
            "each stored value is converted in place; one that does not convert fails the migration, which leaves the database as it was",
        ),
        _ => return None,
    };
    (level != sqlite).then_some((level, reason))
}

/// A relation field whose cardinality changed keeps its name but not its shape.
fn relations(old: &Ir, new: &Ir, out: &mut Vec<Change>) {
    for om in &old.models {
        let Some(nm) = new.models.iter().find(|m| m.table == om.table || m.renamed_from.as_deref() == Some(om.name.as_str())) else {
            continue;
        };
        let shape = |m: &crate::ir::Model, name: &str| -> Option<&'static str> {
            if m.many_to_many.iter().any(|r| r.name == name) {
                return Some("many-to-many");
            }
            m.fields.iter().find(|f| f.name == name).and_then(|f| match f.kind {
                FieldKind::ForeignKey { one_to_one: true, .. } => Some("one-to-one"),
                FieldKind::ForeignKey { .. } => Some("many-to-one"),
                _ => None,
            })
        };
        let names = om.fields.iter().map(|f| f.name.as_str()).chain(om.many_to_many.iter().map(|r| r.name.as_str()));
        for name in names {
            let (Some(a), Some(b)) = (shape(om, name), shape(nm, name)) else { continue };
            if a == b {
                continue;
            }
            let (level, reason) = match (a, b) {
                ("many-to-one", "one-to-one") => (Level::Dangerous, "the migration fails if two rows point at the same target"),
                ("one-to-one", "many-to-one") => (Level::Safe, "every existing link stays valid"),
                _ => (Level::Breaking, "existing links are not moved between a foreign key column and a join table"),
            };
            out.push(
                change(K::RelationCardinalityChanged, &format!("{}.{name}", om.table), level, reason)
                    .values(Some(a.into()), Some(b.into())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(scalar: ScalarKind, sql_type: &str) -> Column {
        Column { scalar: Some(scalar), sql_type: sql_type.into(), ..Column::default() }
    }

    #[test]
    fn postgresql_grades_type_changes_by_what_its_conversion_does() {
        let decimal = |p, s| column(ScalarKind::Decimal { max_digits: p, decimal_places: s }, "TEXT");
        // Fewer decimal places: SQLite's check fails on a value that no longer fits; PostgreSQL rounds.
        let (o, n) = (decimal(10, 2), decimal(10, 1));
        let sqlite = type_change(&o, &n).unwrap().0;
        assert_eq!(sqlite, Level::Dangerous);
        assert_eq!(postgres_type_change(&o, &n, sqlite).map(|g| g.0), Some(Level::Breaking));
        // Text to a number: kept unconverted by SQLite, converted or refused by PostgreSQL.
        let (o, n) = (column(ScalarKind::Text, "TEXT"), column(ScalarKind::BigInteger, "BIGINT"));
        let sqlite = type_change(&o, &n).unwrap().0;
        assert_eq!(sqlite, Level::Breaking);
        assert_eq!(postgres_type_change(&o, &n, sqlite).map(|g| g.0), Some(Level::Dangerous));
        // A float to an integer rounds on PostgreSQL: as breaking as on SQLite, so nothing to add.
        let (o, n) = (column(ScalarKind::Float, "DOUBLE"), column(ScalarKind::Integer, "INTEGER"));
        assert_eq!(postgres_type_change(&o, &n, type_change(&o, &n).unwrap().0), None);
        // Widening is safe on both.
        let (o, n) = (column(ScalarKind::Integer, "INTEGER"), column(ScalarKind::BigInteger, "BIGINT"));
        assert_eq!(postgres_type_change(&o, &n, type_change(&o, &n).unwrap().0), None);
    }
}
