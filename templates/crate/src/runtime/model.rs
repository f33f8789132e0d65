//! What the runtime knows about each model, as data: its table, columns, relations and the
//! GraphQL names they appear under. Every model module (`crate::models::<model>`) declares one
//! static [`Model`]; the schema, the readers and the writers are the same code for every model
//! and read these tables, so a crate's compile cost does not grow with code per model.

use crate::runtime::check;
use crate::runtime::order::DefaultSort;
use crate::runtime::read::Measure;
use crate::runtime::select::KeyKind;
use crate::runtime::write::{Reference, Rule, Target};

/// One model: a table and its GraphQL face.
#[derive(Debug)]
pub struct Model {
    /// The GraphQL object type (`Post`); its inputs and pages are named after it.
    pub name: &'static str,
    pub table: &'static str,
    /// The primary key column.
    pub key: &'static str,
    pub key_kind: KeyKind,
    /// Column-backed fields, in the order the table declares them.
    pub fields: &'static [Field],
    pub relations: &'static [Relation],
    /// The manifest's `ordering`, before the key.
    pub default_order: &'static [DefaultSort],
    /// The full-text index of the model's `search` fields, if it has one.
    pub search: Option<Search>,
    /// Fields aggregates cover.
    pub measures: &'static [Measure],
    /// Root fields of `Query` and `Mutation` that serve this model.
    pub roots: &'static [(&'static str, Root)],
    /// Foreign keys, checked before writes so a missing row is reported on its field.
    pub references: &'static [Reference],
    /// Column sets declared unique: the keys `upsert` may resolve conflicts on.
    pub unique_keys: &'static [&'static [&'static str]],
    /// The manifest's model-level checks.
    pub rules: &'static [Rule],
    /// The fields' columns as SQL, in field order: what writes return.
    pub columns: &'static str,
    /// Who may read and write the rows (see `runtime::access`).
    pub access: Access,
}

/// A model's full-text search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    /// SQLite: the FTS5 table that indexes the `search` fields.
    pub fts: &'static str,
    /// PostgreSQL: the text search document of the `search` fields over `t0`, the expression
    /// the table's GIN index covers.
    pub document: &'static str,
}

/// A model's permissions.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// The manifest declares no roles: every caller may do everything.
    Open,
    /// Grants per role; a role or operation without a grant is denied.
    Roles(&'static [Grants]),
}

/// What one role may do with a model's rows.
#[derive(Debug)]
pub struct Grants {
    pub role: &'static str,
    pub read: Option<Grant>,
    pub create: Option<Grant>,
    pub update: Option<Grant>,
    pub delete: Option<Grant>,
}

/// One granted operation. Which fields the role may name is settled by its schema; these are
/// the limits on rows.
#[derive(Debug)]
pub struct Grant {
    /// The rows reached: a `where` value as JSON, values of the caller's claims as `{"claim": name}`.
    pub rows: Option<&'static str>,
    /// A condition (the same language) rows must satisfy after a create or update.
    pub check: Option<&'static str>,
    /// Input fields set from a claim on create: (field, claim).
    pub preset: &'static [(&'static str, &'static str)],
    /// For reads of rows as the children of rows the caller may read, through the foreign key
    /// column named: the rule left once what the parent's own rule guarantees is dropped.
    pub under: &'static [(&'static str, Option<&'static str>)],
}

/// A column-backed field.
#[derive(Debug)]
pub struct Field {
    /// The GraphQL field name.
    pub name: &'static str,
    pub column: &'static str,
    pub value: ValueType,
    pub nullable: bool,
    pub write: Write,
}

/// How mutations write a field.
#[derive(Debug, Clone, Copy)]
pub enum Write {
    /// Numbered by the database; in no input.
    Auto,
    /// A random UUID the server gives each new row; in no input.
    NewUuid,
    /// The key a client names when it creates the row; it cannot change afterwards.
    Named(Check),
    /// A value clients write, checked by `check`; `absent` says what an omitted value does on create.
    Value { check: Check, absent: Absent },
    /// A foreign key: the field takes an id, the to-one relation over its column a nested create.
    Reference,
    /// The key of the row this one extends (which must exist): the other row's id.
    Extends,
}

/// The checks of a client's value beyond its GraphQL type.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    None,
    Text(check::Text),
    Int(check::Range<i64>),
    Float(check::Range<f64>),
    Decimal(check::Digits),
}

/// What a value left out of a create does.
#[derive(Debug, Clone, Copy)]
pub enum Absent {
    /// Nothing: the value is required.
    Required,
    /// The column's SQL default applies.
    Default,
    /// The column is set to null.
    Null,
    /// The current date, time or timestamp.
    Now,
    /// A fresh random UUID.
    NewUuid,
    /// These literal defaults are written by the server (tables gqlauto does not manage may lack a SQL default).
    Text(&'static str),
    Int(i64),
    Float(f64),
}

/// How a stored value reads and compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A primary or foreign key, exposed as `ID`.
    Key(KeyKind),
    Int,
    BigInt,
    Float,
    /// Exact decimal stored as text, with this many places.
    Decimal(u32),
    Boolean,
    /// Any text type (`String`, `Email`, `URL`, `Slug`).
    Text,
    Date,
    DateTime,
    Time,
    Uuid,
    Json,
    /// A closed set of values: `(GraphQL name, stored value)`.
    Enum(&'static [(&'static str, &'static str)]),
}

/// A relation field of a model's object type.
#[derive(Debug)]
pub struct Relation {
    pub name: &'static str,
    /// The same rows as a page with cursors (`postsConnection`), for to-many relations.
    pub connection: Option<&'static str>,
    pub target: &'static Model,
    pub kind: RelationKind,
}

/// How the related rows are found.
#[derive(Debug, Clone, Copy)]
pub enum RelationKind {
    /// This row's foreign key `column` holds the related row's key.
    ToOne {
        column: &'static str,
        nullable: bool,
    },
    /// The one related row whose `column` holds this row's key (the reverse of a one-to-one).
    Reverse { column: &'static str },
    /// Every related row whose `column` holds this row's key.
    ToMany { column: &'static str },
    /// Rows linked through `join_table`: `here` holds this row's key, `there` the related row's;
    /// only the join rows `scope` picks, if it is given.
    ManyToMany {
        join_table: &'static str,
        here: &'static str,
        there: &'static str,
        scope: Option<&'static JoinScope>,
    },
}

/// The rows of a shared join table that belong to one relation (a generic relation's, whose join
/// rows name the model they link by a content type): those whose `column` holds `value`, an SQL
/// expression (a subquery naming that model's content type). Rows the relation links get it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JoinScope {
    pub column: &'static str,
    pub value: &'static str,
}

impl RelationKind {
    /// Whether the relation's join rows are a scoped part of a shared table.
    pub fn scoped(&self) -> bool {
        matches!(self, RelationKind::ManyToMany { scope: Some(_), .. })
    }
}

impl JoinScope {
    /// `, column` after a join row's two key columns, or nothing without a scope.
    pub fn column(scope: Option<&JoinScope>) -> String {
        scope.map_or(String::new(), |s| {
            format!(", {}", crate::runtime::sql::ident(s.column))
        })
    }

    /// `, value` after a join row's two keys, or nothing without a scope.
    pub fn value(scope: Option<&JoinScope>) -> String {
        scope.map_or(String::new(), |s| format!(", {}", s.value))
    }

    /// ` AND <alias>.column = value` (`alias` empty: unqualified), or nothing without a scope.
    pub fn condition(scope: Option<&JoinScope>, alias: &str) -> String {
        let Some(s) = scope else { return String::new() };
        let at = if alias.is_empty() {
            String::new()
        } else {
            format!("{alias}.")
        };
        format!(
            " AND {at}{} = {}",
            crate::runtime::sql::ident(s.column),
            s.value
        )
    }
}

/// What a root field of a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    One,
    List,
    Connection,
    Aggregate,
    GroupBy,
    Create,
    CreateMany,
    Update,
    UpdateMany,
    Delete,
    DeleteMany,
    Upsert,
}

impl Model {
    /// The field of this GraphQL name.
    pub fn field(&self, name: &str) -> Option<(usize, &'static Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }

    /// The relation of this GraphQL name.
    pub fn relation(&self, name: &str) -> Option<&'static Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The model as the write engine takes it.
    pub fn target(&self) -> Target {
        Target {
            model: self.name,
            table: self.table,
            key: self.key,
            key_kind: self.key_kind,
            references: self.references,
            unique_keys: self.unique_keys,
            rules: self.rules,
            returning: self.columns,
            key_position: self.key_index(),
            relations: self.relations,
        }
    }

    /// The position of the primary key among the fields.
    pub fn key_index(&self) -> usize {
        self.fields
            .iter()
            .position(|f| f.column == self.key)
            .unwrap_or(0)
    }

    /// Every column, qualified by `t0`, in field order: what a read of whole rows selects.
    pub fn projection(&self) -> String {
        self.projection_in("t0")
    }

    /// Every field's column, qualified by `alias`, in field order.
    pub fn projection_in(&self, alias: &str) -> String {
        self.fields
            .iter()
            .map(|f| format!("{alias}.{}", crate::runtime::sql::ident(f.column)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The columns of the fields `wanted` picks (and always the key), qualified by `t0`, in
    /// field order; every other field reads as `NULL` under its column's name. Rows keep their
    /// shape (a record is positional), and the database neither reads, sorts nor sends the
    /// columns no one asked for.
    pub fn projection_of(&self, wanted: impl Fn(&Field) -> bool) -> String {
        self.fields
            .iter()
            .map(|f| {
                let column = crate::runtime::sql::ident(f.column);
                if f.column == self.key || wanted(f) {
                    format!("t0.{column}")
                } else {
                    format!("NULL AS {column}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn field(name: &'static str, column: &'static str, value: ValueType) -> Field {
        Field {
            name,
            column,
            value,
            nullable: false,
            write: Write::Auto,
        }
    }

    static NOTE: Model = Model {
        name: "Note",
        table: "notes",
        key: "note_id",
        key_kind: KeyKind::Int,
        fields: &[
            field("title", "title", ValueType::Text),
            field("id", "note_id", ValueType::Key(KeyKind::Int)),
            field("body", "body", ValueType::Text),
            field("order", "order", ValueType::Int),
        ],
        relations: &[],
        default_order: &[],
        search: None,
        measures: &[],
        roots: &[],
        references: &[],
        unique_keys: &[],
        rules: &[],
        columns: "",
        access: Access::Open,
    };

    #[test]
    fn a_projection_reads_the_fields_wanted_and_the_key_in_field_order() {
        assert_eq!(
            NOTE.projection(),
            r#"t0."title", t0."note_id", t0."body", t0."order""#
        );
        // What is not wanted stays in its place, as NULL under its column's (quoted) name.
        assert_eq!(
            NOTE.projection_of(|f| f.name == "order"),
            r#"NULL AS "title", t0."note_id", NULL AS "body", t0."order""#
        );
        assert_eq!(
            NOTE.projection_of(|_| false),
            r#"NULL AS "title", t0."note_id", NULL AS "body", NULL AS "order""#
        );
    }
}
