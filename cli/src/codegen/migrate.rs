//! The migration from one generation's tables to the next, and back.
//!
//! SQLite's `ALTER TABLE` can add a plain column and little else, so any other change to a table is
//! the rebuild its documentation prescribes: create the new shape under a temporary name, copy every
//! row across (renamed columns from their old name, new NOT NULL columns filled from their default),
//! drop the old table, rename the new one, recreate its indexes and search triggers. Diesel runs each
//! migration in one transaction, so a row that does not fit (a NULL where NOT NULL is new, a duplicate
//! under a new unique constraint) aborts the migration and leaves the database as it was. The server
//! applies migrations with foreign keys off, as the procedure requires, and checks them afterwards.

use super::tables::{Column, Table, Tables};

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
    for f in from.0.values().filter(|f| !pairs.iter().any(|(_, s)| *s == Some(*f))) {
        out.extend(f.drop_all());
    }
    for (t, source) in pairs {
        match source {
            None => out.extend(t.create_all()),
            Some(f) if f.name != t.name => {
                // The search index is named after the table: it goes before the rename and comes
                // back with the new name. SQLite rewrites other tables' references to the table.
                if let Some(s) = &f.search {
                    out.extend(drop_search(&s.table));
                }
                out.push(format!("ALTER TABLE {} RENAME TO {};", f.name, t.name));
                let renamed = Table { name: t.name.clone(), search: None, ..f.clone() };
                out.extend(alter(&renamed, t, dir));
            }
            Some(f) => out.extend(alter(f, t, dir)),
        }
    }
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
    let mut out: Vec<String> = added.iter().map(|c| format!("ALTER TABLE {} ADD COLUMN {};", to.name, c.definition)).collect();
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
    let mut out: Vec<String> =
        from.indexes.iter().filter(|(n, sql)| to.indexes.get(*n) != Some(sql)).map(|(n, _)| format!("DROP INDEX IF EXISTS {n};")).collect();
    out.extend(to.indexes.iter().filter(|(n, sql)| from.indexes.get(*n) != Some(sql)).map(|(_, sql)| sql.clone()));
    out
}

fn search_changes(from: &Table, to: &Table) -> Vec<String> {
    if from.search == to.search {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(s) = &from.search {
        out.extend(drop_search(&s.table));
    }
    out.extend(create_search(to));
    out
}

fn drop_search(fts: &str) -> Vec<String> {
    let mut out: Vec<String> = ["insert", "delete", "update"].iter().map(|t| format!("DROP TRIGGER IF EXISTS {fts}_{t};")).collect();
    out.push(format!("DROP TABLE IF EXISTS {fts};"));
    out
}

/// The search index and its triggers, filled from the rows already in the table.
fn create_search(t: &Table) -> Vec<String> {
    let Some(s) = &t.search else { return Vec::new() };
    let mut out = s.statements.clone();
    out.push(format!("INSERT INTO {fts} ({fts}) VALUES ('rebuild');", fts = s.table));
    out
}

fn rebuild(from: &Table, to: &Table, sources: &[(&Column, Option<&Column>)], dir: Direction) -> Vec<String> {
    let temp = format!("{}__rebuild", to.name);
    let mut out = Vec::new();
    if let Some(s) = &from.search {
        out.extend(drop_search(&s.table));
    }
    out.push(to.create_as(&temp));
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for (c, s) in sources {
        let value = match (s, &c.default) {
            // NULLs stored before the column became NOT NULL take its default.
            (Some(s), Some(d)) if s.nullable && !c.nullable => format!("COALESCE({}, {d})", s.name),
            (Some(s), _) => s.name.clone(),
            // Going down restores the old shape even where the newer side had no such column: rows
            // get a placeholder of the column's type, as nothing else is left to give them.
            (None, None) if dir == Direction::Down && !c.nullable && !c.primary_key => placeholder(&c.sql_type).to_string(),
            (None, _) => continue,
        };
        columns.push(c.name.clone());
        values.push(value);
    }
    out.push(format!("INSERT INTO {temp} ({}) SELECT {} FROM {};", columns.join(", "), values.join(", "), from.name));
    out.push(format!("DROP TABLE {};", from.name));
    out.push(format!("ALTER TABLE {temp} RENAME TO {};", to.name));
    out.extend(to.indexes.values().cloned());
    out.extend(create_search(to));
    out
}

fn placeholder(sql_type: &str) -> &'static str {
    match sql_type {
        "INTEGER" | "BIGINT" | "DOUBLE" | "BOOLEAN" => "0",
        _ => "''",
    }
}
