//! The migration from one generation's tables to the next, and back.
//!
//! SQLite's `ALTER TABLE` can add a plain column and little else, so any other change to a table is
//! the rebuild its documentation prescribes: create the new shape under a temporary name, copy every
//! row across (renamed columns from their old name, new NOT NULL columns filled from their default),
//! drop the old table, rename the new one, recreate its indexes and search triggers. Diesel runs each
//! migration in one transaction, so a row that does not fit (a NULL where NOT NULL is new, a duplicate
//! under a new unique constraint) aborts the migration and leaves the database as it was. The server
//! applies migrations with foreign keys off, as the procedure requires, and checks them afterwards.

use super::dialect::{self, ident, Dialect};
use super::tables::{idents, Column, Table, Tables};

/// The first migration, `(up.sql statements, down.sql statements)`: every table `ir` describes,
/// created, and dropped again.
pub fn initial(ir: &crate::ir::Ir, d: Dialect) -> (Vec<String>, Vec<String>) {
    let tables = Tables::of(ir, d);
    let mut up = Vec::new();
    let mut later = Vec::new();
    for (i, t) in tables.0.values().enumerate() {
        let (now, after) = t.create_before(|name| tables.0.get_index_of(name).is_some_and(|j| j < i));
        up.extend(now);
        later.extend(after);
    }
    up.extend(later);
    // Drop dependants first: join tables, then models in reverse declaration order.
    let down = tables.0.values().rev().flat_map(|t| t.drop_all()).collect();
    (up, down)
}

/// One migration directory's contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// A name for the directory, after the number: `alter_posts`, `create_tags_alter_posts`.
    pub name: String,
    pub up: Vec<String>,
    pub down: Vec<String>,
}

/// Which way a migration runs: column renames are read from the newer side in both.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

/// The migration from `old` to `new` (as [`Tables::pair`] gives them), or `None` when the database
/// does not change.
pub fn between(old: &Tables, new: &Tables) -> Option<Migration> {
    let up = steps(old, new, Direction::Up);
    if up.is_empty() {
        return None;
    }
    let down = steps(new, old, Direction::Down);
    Some(Migration { name: name(old, new), up, down })
}

fn name(old: &Tables, new: &Tables) -> String {
    let mut parts: Vec<String> = Vec::new();
    for t in new.0.values() {
        match old.source_of(t) {
            None => parts.push(format!("create_{}", t.name)),
            Some(o) if o.name != t.name => parts.push(format!("rename_{}", o.name)),
            Some(o) if o != t => parts.push(format!("alter_{}", t.name)),
            Some(_) => {}
        }
    }
    parts.extend(old.0.values().filter(|o| !new.0.values().any(|t| old.source_of(t) == Some(*o))).map(|o| format!("drop_{}", o.name)));
    if parts.len() > 3 {
        parts.truncate(3);
        parts.push("and_more".into());
    }
    parts.join("_")
}

/// The table of `from` that becomes `target`. Renames are declared on the newer side, so going down
/// the pairing is found from `target`'s side and read backwards.
fn source_table<'a>(from: &'a Tables, to: &Tables, target: &Table, dir: Direction) -> Option<&'a Table> {
    match dir {
        Direction::Up => from.source_of(target),
        Direction::Down => from.0.values().find(|newer| to.source_of(newer).is_some_and(|t| t.name == target.name)),
    }
}

fn steps(from: &Tables, to: &Tables, dir: Direction) -> Vec<String> {
    let pairs: Vec<(&Table, Option<&Table>)> = to.0.values().map(|t| (t, source_table(from, to, t, dir))).collect();
    let mut out = Vec::new();
    let mut later = Vec::new();
    for f in from.0.values().filter(|f| !pairs.iter().any(|(_, s)| *s == Some(*f))) {
        out.extend(f.drop_all());
    }
    // Renamed tables take their new names first, so every later step (a reference added by
    // another table's change, on PostgreSQL checked at once) finds them under those names.
    for (t, f) in pairs.iter().filter_map(|(t, s)| Some((*t, (*s)?))).filter(|(t, f)| f.name != t.name) {
        // The search index is named after the table: it goes before the rename and comes back
        // with the new name. SQLite rewrites other tables' references to the table.
        if let Some(s) = &f.search {
            out.extend(drop_search(&s.table, f.dialect));
        }
        out.push(format!("ALTER TABLE {} RENAME TO {};", ident(&f.name), ident(&t.name)));
        if f.dialect == Dialect::Postgres {
            out.extend(rename_constraints(f, &t.name));
        }
    }
    for (i, (t, source)) in pairs.iter().enumerate() {
        let (t, source) = (*t, *source);
        match source {
            None => {
                // Tables created by this migration exist once created; the others already do.
                let (now, after) = t.create_before(|name| match to.0.get_index_of(name) {
                    Some(j) => j < i || pairs[j].1.is_some(),
                    None => true,
                });
                out.extend(now);
                later.extend(after);
            }
            Some(f) if f.name != t.name => {
                let renamed = Table { name: t.name.clone(), search: None, ..f.clone() };
                out.extend(alter(&renamed, t, dir));
            }
            Some(f) => out.extend(alter(f, t, dir)),
        }
    }
    out.extend(later);
    out
}

/// The column of `from` whose values `target` takes over, if any. Renames are declared on the newer
/// side, so going down the pairing is found from `target`'s side and read backwards.
fn source<'a>(from: &'a Table, to: &Table, target: &Column, dir: Direction) -> Option<&'a Column> {
    match dir {
        Direction::Up => from.source_of(target),
        Direction::Down => from.columns.values().find(|newer| to.source_of(newer).is_some_and(|c| c.name == target.name)),
    }
}

fn alter(from: &Table, to: &Table, dir: Direction) -> Vec<String> {
    if to.dialect == Dialect::Postgres {
        return alter_in_place(from, to, dir);
    }
    let sources: Vec<(&Column, Option<&Column>)> = to.columns.values().map(|c| (c, source(from, to, c, dir))).collect();
    let added: Vec<&Column> = sources.iter().filter(|(_, s)| s.is_none()).map(|(c, _)| *c).collect();
    // In place when every old column stays as it was, the constraints do not change, and the new
    // columns (if any) are ones `ADD COLUMN` can add; anything else is a rebuild.
    let in_place = sources.len() - added.len() == from.columns.len()
        && sources.iter().all(|(c, s)| s.is_none_or(|s| s.name == c.name && s.definition == c.definition))
        && from.unique_groups == to.unique_groups
        && from.checks == to.checks
        && added.iter().all(|c| addable(c));
    if !in_place {
        return rebuild(from, to, &sources, dir);
    }
    let mut out: Vec<String> = added.iter().map(|c| format!("ALTER TABLE {} ADD COLUMN {};", ident(&to.name), c.definition)).collect();
    out.extend(index_changes(from, to));
    out.extend(search_changes(from, to));
    out
}

/// Whether `ALTER TABLE ADD COLUMN` can add the column: SQLite refuses unique and key columns, and
/// NOT NULL or foreign key columns unless existing rows can take a constant default.
fn addable(c: &Column) -> bool {
    let constant_default = c.default.as_deref().is_some_and(|d| !d.starts_with("CURRENT_"));
    !c.unique && !c.primary_key && (c.nullable || constant_default) && (c.references.is_none() || c.nullable && c.default.is_none())
}

fn index_changes(from: &Table, to: &Table) -> Vec<String> {
    let mut out: Vec<String> = from
        .indexes
        .iter()
        .filter(|(n, sql)| to.indexes.get(*n) != Some(sql))
        .map(|(n, _)| format!("DROP INDEX IF EXISTS {};", ident(n)))
        .collect();
    out.extend(to.indexes.iter().filter(|(n, sql)| from.indexes.get(*n) != Some(sql)).map(|(_, sql)| sql.clone()));
    out
}

fn search_changes(from: &Table, to: &Table) -> Vec<String> {
    if from.search == to.search {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(s) = &from.search {
        out.extend(drop_search(&s.table, from.dialect));
    }
    out.extend(create_search(to));
    out
}

fn drop_search(fts: &str, d: Dialect) -> Vec<String> {
    if d == Dialect::Postgres {
        return vec![format!("DROP INDEX IF EXISTS {};", ident(fts))];
    }
    let mut out: Vec<String> =
        ["insert", "delete", "update"].iter().map(|t| format!("DROP TRIGGER IF EXISTS {};", ident(&format!("{fts}_{t}")))).collect();
    out.push(format!("DROP TABLE IF EXISTS {};", ident(fts)));
    out
}

/// The search index and its triggers, filled from the rows already in the table.
fn create_search(t: &Table) -> Vec<String> {
    let Some(s) = &t.search else { return Vec::new() };
    let mut out = s.statements.clone();
    // PostgreSQL's index reads the table as it is.
    if t.dialect == Dialect::Postgres {
        return out;
    }
    out.push(format!("INSERT INTO {fts} ({fts}) VALUES ('rebuild');", fts = ident(&s.table)));
    out
}

fn rebuild(from: &Table, to: &Table, sources: &[(&Column, Option<&Column>)], dir: Direction) -> Vec<String> {
    let temp_name = format!("{}__rebuild", to.name);
    let temp = ident(&temp_name);
    let mut out = Vec::new();
    if let Some(s) = &from.search {
        out.extend(drop_search(&s.table, from.dialect));
    }
    out.push(to.create_as(&temp_name));
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for (c, s) in sources {
        let value = match (s, &c.default) {
            // NULLs stored before the column became NOT NULL take its default.
            (Some(s), Some(d)) if s.nullable && !c.nullable => format!("COALESCE({}, {d})", ident(&s.name)),
            (Some(s), _) => ident(&s.name),
            // Going down restores the old shape even where the newer side had no such column: rows
            // get a placeholder of the column's type, as nothing else is left to give them.
            (None, None) if dir == Direction::Down && !c.nullable && !c.primary_key => {
                placeholder(&c.sql_type, Dialect::Sqlite).to_string()
            }
            (None, _) => continue,
        };
        columns.push(c.name.clone());
        values.push(value);
    }
    out.push(format!("INSERT INTO {temp} ({}) SELECT {} FROM {};", idents(&columns), values.join(", "), ident(&from.name)));
    out.push(format!("DROP TABLE {};", ident(&from.name)));
    out.push(format!("ALTER TABLE {temp} RENAME TO {};", ident(&to.name)));
    out.extend(to.indexes.values().cloned());
    out.extend(create_search(to));
    out
}

/// A value of `sql_type` for rows that must have one and have none.
fn placeholder(sql_type: &str, d: Dialect) -> &'static str {
    if d == Dialect::Sqlite {
        return match sql_type {
            "INTEGER" | "BIGINT" | "DOUBLE" | "BOOLEAN" => "0",
            _ => "''",
        };
    }
    match sql_type {
        "INTEGER" | "BIGINT" | "DOUBLE PRECISION" => "0",
        "BOOLEAN" => "FALSE",
        "DATE" => "'1970-01-01'",
        "TIME" => "'00:00:00'",
        "TIMESTAMPTZ" => "'1970-01-01T00:00:00Z'",
        "UUID" => "'00000000-0000-0000-0000-000000000000'",
        "JSONB" => "'null'",
        t if t.starts_with("NUMERIC") => "0",
        _ => "''",
    }
}

/// PostgreSQL names the constraints a table declares after the table (`posts_slug_key`), and its
/// key's identity sequence too: a renamed table's take its new name, as a table created under
/// that name has them, so later migrations find them.
fn rename_constraints(from: &Table, new_name: &str) -> Vec<String> {
    let mut names: Vec<(String, String)> = vec![(format!("{}_pkey", from.name), format!("{new_name}_pkey"))];
    let mut out = Vec::new();
    for c in from.columns.values() {
        // An identity column's sequence is named after the table too.
        if c.primary_key && c.definition.contains(" GENERATED BY DEFAULT AS IDENTITY") {
            out.push(format!(
                "ALTER SEQUENCE {} RENAME TO {};",
                ident(&format!("{}_{}_seq", from.name, c.name)),
                ident(&format!("{new_name}_{}_seq", c.name))
            ));
        }
        if c.unique && !c.primary_key {
            let one = std::slice::from_ref(&c.name);
            names.push((dialect::unique_constraint(&from.name, one), dialect::unique_constraint(new_name, one)));
        }
        if c.references.is_some() {
            names.push((dialect::foreign_key_constraint(&from.name, &c.name), dialect::foreign_key_constraint(new_name, &c.name)));
        }
        if !c.allowed.is_empty() && c.scalar.as_ref().is_some_and(|s| matches!(s, crate::ir::ScalarKind::Enum { .. })) {
            names.push((dialect::allowed_constraint(&from.name, &c.name), dialect::allowed_constraint(new_name, &c.name)));
        }
    }
    for g in &from.unique_groups {
        names.push((dialect::unique_constraint(&from.name, g), dialect::unique_constraint(new_name, g)));
    }
    out.extend(
        names
            .into_iter()
            .map(|(old, new)| format!("ALTER TABLE {} RENAME CONSTRAINT {} TO {};", ident(new_name), ident(&old), ident(&new))),
    );
    out
}

/// PostgreSQL changes a table in place: `ALTER TABLE` drops, renames, retypes and adds columns and
/// constraints, and the whole migration is one transaction, so a row that does not fit a new
/// constraint (or a value that does not convert) aborts it and leaves the database as it was.
/// Constraints that change are dropped first and added last, around the column changes.
fn alter_in_place(from: &Table, to: &Table, dir: Direction) -> Vec<String> {
    let t = &ident(&to.name);
    let table = &to.name;
    let sources: Vec<(&Column, Option<&Column>)> = to.columns.values().map(|c| (c, source(from, to, c, dir))).collect();
    let mut drops = Vec::new();
    let mut changes = Vec::new();
    let mut adds = Vec::new();
    let constraint = |name: String, body: String| format!("ALTER TABLE {t} ADD CONSTRAINT {} {body};", ident(&name));
    let drop_constraint = |name: String| format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {};", ident(&name));
    // Columns that go, with whatever constraints and indexes they carry.
    for old in from.columns.values().filter(|o| !sources.iter().any(|(_, s)| *s == Some(*o))) {
        changes.push(format!("ALTER TABLE {t} DROP COLUMN {};", ident(&old.name)));
    }
    for (c, s) in &sources {
        let Some(s) = s else {
            // A new NOT NULL column without a default going down gets its type's placeholder in
            // the rows that exist, as nothing else is left to give them.
            if dir == Direction::Down && !c.nullable && !c.primary_key && c.default.is_none() {
                changes.push(format!(
                    "ALTER TABLE {t} ADD COLUMN {} DEFAULT {};",
                    c.definition,
                    placeholder(&c.sql_type, Dialect::Postgres)
                ));
                changes.push(format!("ALTER TABLE {t} ALTER COLUMN {} DROP DEFAULT;", ident(&c.name)));
            } else {
                changes.push(format!("ALTER TABLE {t} ADD COLUMN {};", c.definition));
            }
            continue;
        };
        let name = &ident(&c.name);
        // Constraint names carry the column's name: a renamed column's are renamed with it.
        let old_unique = dialect::unique_constraint(table, std::slice::from_ref(&s.name));
        let old_fkey = dialect::foreign_key_constraint(table, &s.name);
        let old_allowed = dialect::allowed_constraint(table, &s.name);
        let is_enum = |c: &Column| !c.allowed.is_empty() && matches!(c.scalar, Some(crate::ir::ScalarKind::Enum { .. }));
        if s.unique && !s.primary_key && !(c.unique && s.name == c.name) {
            drops.push(drop_constraint(old_unique));
        }
        if s.references.is_some() && (s.references != c.references || s.on_delete != c.on_delete || s.name != c.name) {
            drops.push(drop_constraint(old_fkey));
        }
        if is_enum(s) && (s.allowed != c.allowed || s.name != c.name) {
            drops.push(drop_constraint(old_allowed));
        }
        if s.name != c.name {
            changes.push(format!("ALTER TABLE {t} RENAME COLUMN {} TO {name};", ident(&s.name)));
        }
        let retyped = s.sql_type != c.sql_type;
        if retyped {
            // The old default may not convert to the new type: it goes first, the new one after.
            if s.default.is_some() {
                changes.push(format!("ALTER TABLE {t} ALTER COLUMN {name} DROP DEFAULT;"));
            }
            // Text to text converts by assignment, which refuses a value too long for the new
            // length (an explicit cast would cut it short); other types convert explicitly.
            let text = |ty: &str| ty == "TEXT" || ty.starts_with("VARCHAR");
            changes.push(match text(&s.sql_type) && text(&c.sql_type) {
                true => format!("ALTER TABLE {t} ALTER COLUMN {name} TYPE {};", c.sql_type),
                false => format!("ALTER TABLE {t} ALTER COLUMN {name} TYPE {ty} USING {name}::{ty};", ty = c.sql_type),
            });
        }
        if s.default != c.default || (retyped && s.default.is_some()) {
            changes.push(match &c.default {
                Some(d) => format!("ALTER TABLE {t} ALTER COLUMN {name} SET DEFAULT {d};"),
                None => format!("ALTER TABLE {t} ALTER COLUMN {name} DROP DEFAULT;"),
            });
        }
        if s.nullable != c.nullable && !c.primary_key {
            if c.nullable {
                changes.push(format!("ALTER TABLE {t} ALTER COLUMN {name} DROP NOT NULL;"));
            } else {
                // NULLs stored before the column became NOT NULL take its default.
                if let Some(d) = &c.default {
                    changes.push(format!("UPDATE {t} SET {name} = {d} WHERE {name} IS NULL;"));
                }
                changes.push(format!("ALTER TABLE {t} ALTER COLUMN {name} SET NOT NULL;"));
            }
        }
        if c.unique && !c.primary_key && !(s.unique && s.name == c.name) {
            adds.push(constraint(dialect::unique_constraint(table, std::slice::from_ref(&c.name)), format!("UNIQUE ({name})")));
        }
        if let (Some(r), Some(action)) = (&c.references, &c.on_delete) {
            if s.references != c.references || s.on_delete != c.on_delete || s.name != c.name {
                adds.push(constraint(
                    dialect::foreign_key_constraint(table, &c.name),
                    format!("FOREIGN KEY ({name}) REFERENCES {} ON DELETE {action}", r.sql()),
                ));
            }
        }
        if is_enum(c) && (s.allowed != c.allowed || s.name != c.name) {
            let list = c.allowed.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
            adds.push(constraint(dialect::allowed_constraint(table, &c.name), format!("CHECK ({name} IN ({list}))")));
        }
    }
    for g in from.unique_groups.iter().filter(|g| !to.unique_groups.contains(g)) {
        drops.push(drop_constraint(dialect::unique_constraint(table, g)));
    }
    for g in to.unique_groups.iter().filter(|g| !from.unique_groups.contains(g)) {
        adds.push(constraint(dialect::unique_constraint(table, g), format!("UNIQUE ({})", idents(g))));
    }
    for (name, _) in from.checks.iter().filter(|c| !to.checks.contains(c)) {
        drops.push(drop_constraint(name.clone()));
    }
    for (name, sql) in to.checks.iter().filter(|c| !from.checks.contains(c)) {
        adds.push(constraint(name.clone(), format!("CHECK ({sql})")));
    }
    // The search index is an expression over its columns: one retyped under it would keep the
    // old type's casts, so it is made anew from the new columns.
    let retyped: Vec<&str> =
        sources.iter().filter(|(c, s)| s.is_some_and(|s| s.sql_type != c.sql_type)).map(|(c, _)| c.name.as_str()).collect();
    let reindex = from.search.is_some()
        && from.search == to.search
        && to
            .search
            .as_ref()
            .is_some_and(|s| s.statements.iter().any(|st| retyped.iter().any(|c| st.contains(&format!("coalesce({},", ident(c))))));
    // A search index that changes goes first too: left in place, PostgreSQL would rebuild it over
    // a retyped column with the old expression (`coalesce(<bigint>, '')`), failing the migration.
    let remade = reindex || from.search != to.search;
    let mut out = drops;
    if remade {
        out.extend(from.search.as_ref().map(|s| drop_search(&s.table, from.dialect)).unwrap_or_default());
    }
    out.extend(changes);
    out.extend(adds);
    out.extend(index_changes(from, to));
    if remade {
        out.extend(create_search(to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ir(fields: &str) -> crate::ir::Ir {
        super::super::common::ir_of(&format!("version: 1\nname: shop\nmodels:\n  Item:\n    fields: {{ id: auto, {fields} }}\n"))
    }

    fn migration(old: &str, new: &str, d: Dialect) -> Option<Migration> {
        let (before, after) = Tables::pair(&ir(old), &ir(new), d);
        between(&before, &after)
    }

    #[test]
    fn an_unchanged_manifest_needs_no_migration() {
        assert_eq!(migration("name: string", "name: string", Dialect::Sqlite), None);
        assert_eq!(migration("name: string", "name: string", Dialect::Postgres), None);
    }

    #[test]
    fn a_plain_nullable_column_is_added_in_place_and_dropped_going_down() {
        let m = migration("name: string", "name: string, note: { type: text, nullable: true }", Dialect::Sqlite).expect("a change");
        assert_eq!(m.name, "alter_items");
        assert_eq!(m.up, ["ALTER TABLE items ADD COLUMN note TEXT;"]);
        assert!(m.down.join("\n").contains("CREATE TABLE items__rebuild"), "SQLite drops a column by rebuilding: {:?}", m.down);
        let m = migration("name: string", "name: string, note: { type: string, nullable: true }", Dialect::Postgres).expect("a change");
        assert_eq!(
            m.up,
            [
                "ALTER TABLE items ADD COLUMN note VARCHAR(255);",
                "ALTER TABLE items ADD CONSTRAINT items_note_check CHECK (length(note) <= 255);"
            ]
        );
        assert_eq!(m.down, ["ALTER TABLE items DROP CONSTRAINT IF EXISTS items_note_check;", "ALTER TABLE items DROP COLUMN note;"]);
    }

    #[test]
    fn sqlite_rebuilds_a_table_whose_column_changes_and_postgres_alters_it() {
        let (old, new) = ("name: string", "name: { type: string, unique: true }");
        let sqlite = migration(old, new, Dialect::Sqlite).expect("a change");
        assert_eq!(sqlite.up.len(), 4, "{:?}", sqlite.up);
        assert!(sqlite.up[0].starts_with("CREATE TABLE items__rebuild") && sqlite.up[0].contains("name VARCHAR(255) NOT NULL UNIQUE"));
        assert_eq!(
            sqlite.up[1..],
            [
                "INSERT INTO items__rebuild (id, name) SELECT id, name FROM items;",
                "DROP TABLE items;",
                "ALTER TABLE items__rebuild RENAME TO items;"
            ]
        );
        assert!(!sqlite.down[0].contains("UNIQUE"), "going down drops the constraint: {:?}", sqlite.down);
        let postgres = migration(old, new, Dialect::Postgres).expect("a change");
        assert_eq!(postgres.up, ["ALTER TABLE items ADD CONSTRAINT items_name_key UNIQUE (name);"]);
        assert_eq!(postgres.down, ["ALTER TABLE items DROP CONSTRAINT IF EXISTS items_name_key;"]);
    }

    #[test]
    fn a_renamed_field_keeps_its_values_both_ways() {
        let (old, new) = ("name: string", "title: { type: string, renamed_from: name }");
        let m = migration(old, new, Dialect::Postgres).expect("a change");
        assert!(m.up.contains(&"ALTER TABLE items RENAME COLUMN name TO title;".to_string()), "{:?}", m.up);
        assert!(m.down.contains(&"ALTER TABLE items RENAME COLUMN title TO name;".to_string()), "{:?}", m.down);
        let m = migration(old, new, Dialect::Sqlite).expect("a change");
        assert!(m.up.contains(&"INSERT INTO items__rebuild (id, title) SELECT id, name FROM items;".to_string()), "{:?}", m.up);
        assert!(m.down.contains(&"INSERT INTO items__rebuild (id, name) SELECT id, title FROM items;".to_string()), "{:?}", m.down);
    }

    #[test]
    fn the_first_migration_creates_what_it_references_first_and_drops_it_last() {
        let ir = super::super::common::blog();
        let (up, down) = initial(&ir, Dialect::Postgres);
        let created = |table: &str| up.iter().position(|s| s.starts_with(&format!("CREATE TABLE {table} "))).expect(table);
        assert!(created("authors") < created("posts"));
        assert!(created("posts") < created("posts_tags") && created("tags") < created("posts_tags"));
        let dropped = |table: &str| down.iter().position(|s| s.starts_with(&format!("DROP TABLE IF EXISTS {table} "))).expect(table);
        assert!(dropped("posts_tags") < dropped("posts") && dropped("posts") < dropped("authors"));
    }
}
