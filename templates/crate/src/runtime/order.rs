//! `orderBy:` arguments: sort keys, including fields of to-one relations.
//!
//! Nulls sort last in both directions unless `nulls: FIRST` is given. The primary key always ends
//! the ordering, so equal keys never make pages unstable.

use async_graphql::Enum;

use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::Scope;
use crate::runtime::sql::{decimal_value, ident};

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrderDirection {
    Asc,
    Desc,
}

/// Where null values sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NullsOrder {
    First,
    Last,
}

/// One sort key, as SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// A name for the key, part of the cursor signature (`title`, `author.name`).
    pub name: String,
    pub expr: String,
    pub desc: bool,
    pub nulls_first: bool,
    /// Whether `expr` can be null.
    pub nullable: bool,
    /// Whether `expr` is a floating-point number (carried in cursors at full precision).
    pub float: bool,
}

impl OrderKey {
    /// A key on the qualified column `col`, nulls last.
    pub fn column(name: &str, col: &str, desc: bool, nullable: bool, sort_as: SortAs) -> OrderKey {
        OrderKey {
            name: name.to_string(),
            expr: sort_as.expr(col),
            desc,
            nulls_first: false,
            nullable,
            float: sort_as != SortAs::Plain,
        }
    }

    /// The key as an ORDER BY term; `reverse` flips direction and null placement.
    pub fn term(&self, reverse: bool) -> String {
        let desc = self.desc != reverse;
        let mut term = format!("{} {}", self.expr, if desc { "DESC" } else { "ASC" });
        if self.nullable {
            term.push_str(if self.nulls_first != reverse {
                " NULLS FIRST"
            } else {
                " NULLS LAST"
            });
        }
        term
    }
}

/// A model's ordering input (`PostOrderBy`): each element names exactly one key.
pub trait OrderBy {
    const TABLE: &'static str;
    const KEY: &'static str;
    fn pick(&self, picker: &mut Picker<'_, '_>) -> Result<(), ApiError>;
}

/// The keys of an `orderBy` list, on the table `scope` names.
pub fn order_keys<O: OrderBy>(list: &[O], scope: &Scope<'_>) -> Result<Vec<OrderKey>, ApiError> {
    list.iter()
        .map(|element| pick_one(element, scope))
        .collect()
}

fn pick_one<O: OrderBy>(element: &O, scope: &Scope<'_>) -> Result<OrderKey, ApiError> {
    let mut picker = Picker::new(scope);
    element.pick(&mut picker)?;
    picker.finish()
}

/// Collects the key one `orderBy` element names.
pub struct Picker<'s, 'a> {
    scope: &'s Scope<'a>,
    picked: Vec<OrderKey>,
    nulls: Option<NullsOrder>,
}

impl<'s, 'a> Picker<'s, 'a> {
    /// A picker for one element, on the table `scope` names.
    pub fn new(scope: &'s Scope<'a>) -> Picker<'s, 'a> {
        Picker {
            scope,
            picked: Vec::new(),
            nulls: None,
        }
    }

    /// The one key the element named; `INVALID_ARGUMENT` if it named none or several.
    pub fn finish(self) -> Result<OrderKey, ApiError> {
        let mut picked = self.picked;
        if picked.len() != 1 {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "each `orderBy` element must name exactly one field, this one names {}",
                    picked.len()
                ),
            )
            .on_field("orderBy"));
        }
        let mut key = picked.remove(0);
        if let Some(nulls) = self.nulls {
            key.nulls_first = nulls == NullsOrder::First;
        }
        Ok(key)
    }

    /// The element's `nulls` choice.
    pub fn nulls(&mut self, nulls: Option<NullsOrder>) {
        self.nulls = nulls;
    }

    /// A column; `kind` says how it compares.
    pub fn column(
        &mut self,
        name: &str,
        column: &str,
        direction: Option<OrderDirection>,
        nullable: bool,
        kind: SortAs,
    ) {
        if let Some(direction) = direction {
            self.picked.push(OrderKey::column(
                name,
                &self.scope.col(column),
                direction == OrderDirection::Desc,
                nullable,
                kind,
            ));
        }
    }

    /// A field of the row the foreign key `column` points at.
    pub fn relation<O: OrderBy>(
        &mut self,
        name: &str,
        column: &str,
        nested: Option<&O>,
        nullable: bool,
    ) -> Result<(), ApiError> {
        let Some(nested) = nested else { return Ok(()) };
        self.relation_on(name, column, nullable, O::TABLE, O::KEY, |inner| {
            pick_one(nested, inner)
        })
    }

    /// A field of the row in `table` (key `key`) that the foreign key `column` points at; `pick`
    /// names the key on that table's alias.
    pub fn relation_on(
        &mut self,
        name: &str,
        column: &str,
        nullable: bool,
        table: &str,
        key: &str,
        pick: impl FnOnce(&Scope<'_>) -> Result<OrderKey, ApiError>,
    ) -> Result<(), ApiError> {
        let inner = self.scope.fresh();
        let picked = pick(&inner)?;
        self.picked.push(OrderKey {
            name: format!("{name}.{}", picked.name),
            expr: format!(
                "(SELECT {} FROM {} AS {} WHERE {} = {})",
                picked.expr,
                ident(table),
                inner.alias(),
                inner.col(key),
                self.scope.col(column)
            ),
            nullable: picked.nullable || nullable,
            ..picked
        });
        Ok(())
    }
}

/// How a column sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortAs {
    /// By its stored value.
    Plain,
    /// As a floating-point number.
    Float,
    /// A decimal stored as text, sorted by its numeric value.
    Decimal,
}

impl SortAs {
    fn expr(self, col: &str) -> String {
        match self {
            SortAs::Decimal => decimal_value(col),
            SortAs::Plain | SortAs::Float => col.to_string(),
        }
    }
}

/// A default sort key of a model, from its manifest `ordering`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultSort {
    pub name: &'static str,
    pub column: &'static str,
    pub desc: bool,
    pub nullable: bool,
    pub sort_as: SortAs,
}

impl DefaultSort {
    pub fn key(&self, scope: &Scope<'_>) -> OrderKey {
        OrderKey::column(
            self.name,
            &scope.col(self.column),
            self.desc,
            self.nullable,
            self.sort_as,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(desc: bool, nullable: bool) -> OrderKey {
        OrderKey {
            name: "x".into(),
            expr: "x".into(),
            desc,
            nulls_first: false,
            nullable,
            float: false,
        }
    }

    #[test]
    fn terms_place_nulls_last_and_reverse_cleanly() {
        assert_eq!(key(false, false).term(false), "x ASC");
        assert_eq!(key(true, true).term(false), "x DESC NULLS LAST");
        assert_eq!(key(true, true).term(true), "x ASC NULLS FIRST");
    }
}
