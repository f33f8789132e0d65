//! The database an IR describes, as tables of column definitions: what the initial migration
//! creates, what later migrations compare, and what the data diff grades.

use indexmap::IndexMap;

use super::dialect::{self, ident, Dialect};
use super::sql;
use crate::ir::{FieldKind, Ir, Model, ParentLink, ScalarKind};

/// Every table, models first in declaration order, then join tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables(pub IndexMap<String, Table>);

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    /// The SQL the table's statements are written in.
    pub dialect: Dialect,
    /// The table this one was before a model rename (`renamed_from` on the model, or the join table
    /// of a renamed model's many-to-many field). Set by [`Tables::pair`].
    pub renamed_from: Option<String>,
    pub columns: IndexMap<String, Column>,
    /// `UNIQUE (a, b)` groups.
    pub unique_groups: Vec<Vec<String>>,
    /// Named `CHECK` constraints: `(name, expression)`.
    pub checks: Vec<(String, String)>,
    /// Index name → `CREATE INDEX` statement.
    pub indexes: IndexMap<String, String>,
    /// Unique indexes by name, with their columns.
    pub unique_indexes: IndexMap<String, Vec<String>>,
    /// The full-text index and its triggers, when the model has `search` fields.
    pub search: Option<Search>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub table: String,
    /// The virtual table, then the triggers that keep it in step.
    pub statements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    pub name: String,
    /// The manifest field the column stores (relations: the field of the foreign key).
    pub field: String,
    /// The column's line in `CREATE TABLE`.
    pub definition: String,
    pub sql_type: String,
    /// What the field stores, for grading type changes (`None` for keys and join columns).
    pub scalar: Option<ScalarKind>,
    pub primary_key: bool,
    pub nullable: bool,
    pub unique: bool,
    /// The SQL default expression.
    pub default: Option<String>,
    /// The row a foreign key points at.
    pub references: Option<Reference>,
    /// The foreign key's `ON DELETE` action.
    pub on_delete: Option<String>,
    /// The closed set of values the column accepts (enum values or `choices`), if any.
    pub allowed: Vec<String>,
    /// The field's former name (`renamed_from`), so migrations rename instead of drop + add.
    pub renamed_from: Option<String>,
}

/// The table and column a foreign key references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub table: String,
    pub column: String,
}

impl Reference {
    /// `table (column)` as DDL writes it after `REFERENCES`.
    pub fn sql(&self) -> String {
        format!("{} ({})", ident(&self.table), ident(&self.column))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.table, self.column)
    }
}

impl Tables {
    /// The tables gqlauto's migrations own. Unmanaged models' tables, and the join tables of their
    /// many-to-many fields, belong to someone else: migrations neither create nor change them.
    pub fn of(ir: &Ir, d: Dialect) -> Tables {
        Tables::where_managed(ir, true, d)
    }

    /// The tables of unmanaged models (and their join tables), as gqlauto would create them: what
    /// the generated smoke test creates before it starts the server on a fresh database.
    pub fn unmanaged(ir: &Ir, d: Dialect) -> Tables {
        Tables::where_managed(ir, false, d)
    }

    fn where_managed(ir: &Ir, managed: bool, d: Dialect) -> Tables {
        let mut tables = IndexMap::new();
        for m in ir.models.iter().filter(|m| m.managed == managed) {
            tables.insert(m.table.clone(), model_table(m, d));
        }
        let keep = |name: &str| ir.model(name).is_some_and(|m| m.managed == managed);
        for j in ir.join_tables.iter().filter(|j| keep(&j.source_model)) {
            let source = ir.model(&j.source_model).expect("validated relation target");
            let target = ir.model(&j.target_model).expect("validated relation target");
            let column = |name: &str, m: &Model| {
                let pk = m.pk_field();
                let sql_type = d.column_type(&pk.kind);
                let constraint = match d {
                    Dialect::Sqlite => String::new(),
                    Dialect::Postgres => format!("CONSTRAINT {} ", ident(&dialect::foreign_key_constraint(&j.table, name))),
                };
                let references = Reference { table: m.table.clone(), column: pk.column.clone() };
                let definition =
                    format!("{} {sql_type} NOT NULL {constraint}REFERENCES {} ON DELETE CASCADE", ident(name), references.sql());
                Column {
                    name: name.to_string(),
                    field: name.to_string(),
                    definition,
                    sql_type,
                    scalar: None,
                    primary_key: true,
                    nullable: false,
                    unique: false,
                    default: None,
                    references: Some(references),
                    on_delete: Some("CASCADE".into()),
                    allowed: Vec::new(),
                    renamed_from: None,
                }
            };
            let columns = IndexMap::from([
                (j.source_column.clone(), column(&j.source_column, source)),
                (j.target_column.clone(), column(&j.target_column, target)),
            ]);
            // The primary key serves lookups by the source column; the reverse direction needs its own index.
            let index = format!("{}_{}_idx", j.table, j.target_column);
            let create_index = format!("CREATE INDEX {} ON {} ({});", ident(&index), ident(&j.table), ident(&j.target_column));
            tables.insert(
                j.table.clone(),
                Table {
                    name: j.table.clone(),
                    dialect: d,
                    renamed_from: None,
                    columns,
                    // The composite primary key already makes each link unique.
                    unique_groups: Vec::new(),
                    checks: Vec::new(),
                    indexes: IndexMap::from([(index, create_index)]),
                    unique_indexes: IndexMap::new(),
                    search: None,
                },
            );
        }
        Tables(tables)
    }
}

impl Tables {
    /// The tables of two generations, the newer marked with the renames its manifest declares: a
    /// model `renamed_from` an old model takes over that model's table, and each many-to-many
    /// join table takes over the old one of the same field when both ends continue the old ends
    /// (its two columns in order, renamed with a renamed end).
    pub fn pair(old: &Ir, new: &Ir, d: Dialect) -> (Tables, Tables) {
        let (before, mut after) = (Tables::of(old, d), Tables::of(new, d));
        // The old model a new one continues: the one it was renamed from, else the one of its name.
        let was = |name: &str| {
            let m = new.model(name)?;
            m.renamed_from.as_deref().map_or_else(|| old.model(&m.name), |r| old.model(r))
        };
        for m in &new.models {
            let Some(was_model) = was(&m.name) else { continue };
            if m.renamed_from.is_some() {
                if let Some(t) = after.0.get_mut(&m.table) {
                    t.renamed_from = Some(was_model.table.clone());
                }
            }
            // A join table continues the old one of the same field while both its ends continue
            // the old ends; a renamed end renames its column.
            for r in &m.many_to_many {
                let Some(o) = was_model.many_to_many.iter().find(|o| o.name == r.name) else { continue };
                if was(&r.target).map(|t| t.name.as_str()) != Some(o.target.as_str()) {
                    continue;
                }
                let old_join = o.join_table.clone();
                let (Some(t), Some(o)) = (after.0.get_mut(&r.join_table), before.0.get(&old_join)) else { continue };
                if t.name != o.name {
                    t.renamed_from = Some(o.name.clone());
                }
                for (new_col, old_col) in t.columns.values_mut().zip(o.columns.values()) {
                    if new_col.name != old_col.name {
                        new_col.renamed_from = Some(old_col.field.clone());
                    }
                }
            }
        }
        (before, after)
    }

    /// The old table a new one continues: the one it was renamed from, else the one of its name.
    pub fn source_of(&self, new: &Table) -> Option<&Table> {
        new.renamed_from.as_ref().and_then(|t| self.0.get(t)).or_else(|| self.0.get(&new.name))
    }
}

/// An index column (`published_at DESC`) as `d` writes it. Lists put nulls last in either
/// direction; SQLite's indexes hold nulls as the smallest value (its ORDER BY places them as the
/// index does for `DESC`), while PostgreSQL's must say `NULLS LAST` for an index scan to serve
/// the ORDER BY, forwards or backwards.
fn index_column(m: &Model, column: &str, d: Dialect) -> String {
    let (name, direction) = column.split_once(' ').map_or((column, ""), |(n, rest)| (n, rest));
    let nullable = m.fields.iter().any(|f| f.column == name && f.nullable);
    let mut out = ident(name);
    if !direction.is_empty() {
        out = format!("{out} {direction}");
    }
    match d {
        Dialect::Postgres if nullable => format!("{out} NULLS LAST"),
        _ => out,
    }
}

fn model_table(m: &Model, d: Dialect) -> Table {
    let columns = m
        .fields
        .iter()
        .map(|f| {
            let allowed = match &f.kind {
                FieldKind::Scalar(ScalarKind::Enum { values, .. }) => values.clone(),
                _ => f.rules.choices.clone(),
            };
            let (references, on_delete) = match (&f.kind, &m.parent) {
                (FieldKind::ForeignKey { target_table, target_column, on_delete, .. }, _)
                | (FieldKind::PrimaryKey(_), Some(ParentLink { target_table, target_column, on_delete, .. })) => {
                    (Some(Reference { table: target_table.clone(), column: target_column.clone() }), Some(on_delete.sql().to_string()))
                }
                _ => (None, None),
            };
            // A key that links to another row is that row's key, never generated here.
            let sql_type = d.column_type(&f.kind);
            let definition = match (&f.kind, &references, &on_delete) {
                (FieldKind::PrimaryKey(_), Some(r), Some(action)) => {
                    let constraint = match d {
                        Dialect::Sqlite => String::new(),
                        Dialect::Postgres => format!("CONSTRAINT {} ", ident(&dialect::foreign_key_constraint(&m.table, &f.column))),
                    };
                    format!("{} {sql_type} PRIMARY KEY NOT NULL {constraint}REFERENCES {} ON DELETE {action}", ident(&f.column), r.sql())
                }
                _ => sql::column(f, &m.table, d),
            };
            let column = Column {
                name: f.column.clone(),
                field: f.name.clone(),
                definition,
                sql_type,
                scalar: match &f.kind {
                    FieldKind::Scalar(s) => Some(s.clone()),
                    _ => None,
                },
                primary_key: matches!(f.kind, FieldKind::PrimaryKey(_)),
                nullable: f.nullable,
                unique: f.unique,
                default: sql::default_sql(f, d),
                references,
                on_delete,
                allowed,
                renamed_from: f.renamed_from.clone(),
            };
            (f.column.clone(), column)
        })
        .collect();
    let mut indexes = IndexMap::new();
    let mut unique_indexes = IndexMap::new();
    for i in &m.indexes {
        let unique = if i.unique { "UNIQUE " } else { "" };
        let columns: Vec<String> = i.columns.iter().map(|c| index_column(m, c, d)).collect();
        indexes.insert(i.name.clone(), format!("CREATE {unique}INDEX {} ON {} ({});", ident(&i.name), ident(&m.table), columns.join(", ")));
        if i.unique {
            unique_indexes.insert(i.name.clone(), i.columns.clone());
        }
    }
    let search = (!m.search.is_empty()).then(|| Search { table: sql::fts_table(m, d), statements: sql::search_index(m, d) });
    Table {
        name: m.table.clone(),
        dialect: d,
        renamed_from: None,
        columns,
        unique_groups: m.unique_together.clone(),
        checks: sql::checks(m, d).into_iter().map(|c| (c.name, c.sql)).collect(),
        indexes,
        unique_indexes,
        search,
    }
}

impl Table {
    /// The column of this (older) table a newer column continues: the one it was renamed from, else
    /// the one of its name (a `renamed_from` left in the manifest after its migration names a column
    /// that is gone by then).
    pub fn source_of(&self, new: &Column) -> Option<&Column> {
        new.renamed_from
            .as_ref()
            .and_then(|field| self.columns.values().find(|c| &c.field == field))
            .or_else(|| self.columns.get(&new.name))
    }

    /// `CREATE TABLE` under `name` (the table's own, or a temporary one for a rebuild).
    pub fn create_as(&self, name: &str) -> String {
        let mut lines: Vec<String> = self.columns.values().map(|c| c.definition.clone()).collect();
        let pk: Vec<&str> = self.columns.values().filter(|c| c.primary_key).map(|c| c.name.as_str()).collect();
        // A single primary key is declared on its column; a join table's pair is a table constraint.
        if pk.len() > 1 {
            lines.push(format!("PRIMARY KEY ({})", idents(&pk)));
        }
        for group in &self.unique_groups {
            lines.push(match self.dialect {
                Dialect::Sqlite => format!("UNIQUE ({})", idents(group)),
                Dialect::Postgres => format!("CONSTRAINT {} UNIQUE ({})", ident(&dialect::unique_constraint(name, group)), idents(group)),
            });
        }
        for (name, sql) in &self.checks {
            lines.push(format!("CONSTRAINT {} CHECK ({sql})", ident(name)));
        }
        format!("CREATE TABLE {} (\n    {}\n);", ident(name), lines.join(",\n    "))
    }

    /// Everything that creates the table: itself, its indexes, its search index.
    pub fn create_all(&self) -> Vec<String> {
        self.create_before(|_| true).0
    }

    /// What creates the table when only the tables `exists` says yes to are there yet: PostgreSQL
    /// checks a foreign key's table when it is declared, so a reference to a table created later
    /// is left out of `CREATE TABLE` and added (second list) once every table exists. SQLite
    /// checks references when rows are written, so its tables declare them all.
    pub fn create_before(&self, exists: impl Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
        let mut later = Vec::new();
        let mut table = self.clone();
        if self.dialect == Dialect::Postgres {
            for c in table.columns.values_mut() {
                let (Some(r), Some(action)) = (&c.references, &c.on_delete) else { continue };
                if r.table == self.name || exists(&r.table) {
                    continue;
                }
                let name = ident(&dialect::foreign_key_constraint(&self.name, &c.name));
                let clause = format!(" CONSTRAINT {name} REFERENCES {} ON DELETE {action}", r.sql());
                c.definition = c.definition.replacen(&clause, "", 1);
                later.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {name} FOREIGN KEY ({}) REFERENCES {} ON DELETE {action};",
                    ident(&self.name),
                    ident(&c.name),
                    r.sql()
                ));
            }
        }
        let mut out = vec![table.create_as(&self.name)];
        out.extend(self.indexes.values().cloned());
        if let Some(s) = &self.search {
            out.extend(s.statements.iter().cloned());
        }
        (out, later)
    }

    /// Everything that drops it, dependants first.
    pub fn drop_all(&self) -> Vec<String> {
        let mut out = Vec::new();
        // PostgreSQL's search index goes with its table.
        if let (Some(s), Dialect::Sqlite) = (&self.search, self.dialect) {
            out.push(format!("DROP TABLE IF EXISTS {};", ident(&s.table)));
        }
        out.push(match self.dialect {
            Dialect::Sqlite => format!("DROP TABLE IF EXISTS {};", ident(&self.name)),
            // Foreign keys of tables dropped later (or changed by the same migration) go with it.
            Dialect::Postgres => format!("DROP TABLE IF EXISTS {} CASCADE;", ident(&self.name)),
        });
        out
    }
}

/// Identifiers as a comma-separated DDL list.
pub fn idents<S: AsRef<str>>(names: &[S]) -> String {
    names.iter().map(|n| ident(n.as_ref())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_list_models_then_join_tables_with_their_references() {
        let ir = super::super::common::blog();
        let tables = Tables::of(&ir, Dialect::Postgres);
        assert_eq!(tables.0.keys().collect::<Vec<_>>(), ["authors", "posts", "tags", "posts_tags"]);
        let author = &tables.0["posts"].columns["author_id"];
        assert_eq!(author.references.as_ref().map(ToString::to_string).as_deref(), Some("authors (id)"));
        assert_eq!(author.on_delete.as_deref(), Some("CASCADE"));
        let join = &tables.0["posts_tags"];
        assert!(join.columns.values().all(|c| c.primary_key && !c.nullable));
        assert_eq!(join.indexes.values().collect::<Vec<_>>(), ["CREATE INDEX posts_tags_tag_id_idx ON posts_tags (tag_id);"]);
    }

    #[test]
    fn references_quote_names_a_database_would_misread() {
        let r = Reference { table: "order".into(), column: "id".into() };
        assert_eq!(r.sql(), "\"order\" (id)");
        assert_eq!(r.to_string(), "order (id)");
        assert_eq!(idents(&["user", "name"]), "\"user\", name");
    }
}
