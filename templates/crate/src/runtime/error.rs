//! API errors: every failure a client can see, with a stable `extensions.code`.
//!
//! Database errors are translated here and never reach clients as SQL text. Rejected input comes
//! back as one error listing every problem: `extensions.errors` is a list of
//! `{field, code, message}`, where `field` is the path of the value inside the arguments
//! (`input.posts.create[1].title`).

use diesel::result::{DatabaseErrorKind, Error as DbError};

use crate::runtime::sql::{dialect, Dialect};

/// Stable error codes, sent as `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The addressed row does not exist (or the caller's role may not see it).
    NotFound,
    /// The caller's role may not do this (a row it would write breaks the role's `check`, or a
    /// claim a rule needs is missing from its token).
    Forbidden,
    /// A unique constraint would be violated.
    UniqueViolation,
    /// A referenced row is missing.
    ForeignKeyViolation,
    /// The row cannot be deleted or unlinked while other rows depend on it.
    Conflict,
    /// Input values are invalid (length, format, range, null for a required field, ...).
    ValidationFailed,
    /// An `ID` argument is not a valid key.
    InvalidId,
    /// A paging argument is out of range.
    LimitExceeded,
    /// An argument is malformed (an `orderBy` element naming two fields, `first` with `last`).
    InvalidArgument,
    /// A connection cursor was not issued for this query, or was altered.
    InvalidCursor,
    /// The database is unavailable or busy.
    Unavailable,
    /// The request ran longer than `REQUEST_TIMEOUT_MS`; its statements were interrupted.
    Timeout,
    /// Anything else; details are logged, not sent.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::UniqueViolation => "UNIQUE_VIOLATION",
            ErrorCode::ForeignKeyViolation => "FOREIGN_KEY_VIOLATION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::ValidationFailed => "VALIDATION_FAILED",
            ErrorCode::InvalidId => "INVALID_ID",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidCursor => "INVALID_CURSOR",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// One rejected value: where it is in the arguments, a stable code (`MAX_LENGTH`, `UNIQUE`, ...)
/// and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// An error for the client: code, message and, where known, the offending input values.
///
/// Deliberately not `Display`, so async-graphql's blanket conversion cannot bypass the mapping below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The first offending value's path (also `problems[0].field`).
    pub field: Option<String>,
    /// Every offending value.
    pub problems: Vec<Problem>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
            problems: Vec::new(),
        }
    }

    /// Names the argument or input field at fault.
    pub fn on_field(mut self, field: impl Into<String>) -> ApiError {
        let field = field.into();
        match self.problems.first_mut() {
            Some(first) => first.field = field.clone(),
            None => self.problems.push(Problem {
                field: field.clone(),
                code: self.code.as_str(),
                message: self.message.clone(),
            }),
        }
        self.field = Some(field);
        self
    }

    /// The same error for a value nested under `path` (`input.comments.create[0]`).
    pub fn at(mut self, path: &str) -> ApiError {
        if path.is_empty() {
            return self;
        }
        for p in &mut self.problems {
            p.field = join_path(path, &p.field);
        }
        self.field = self.field.map(|f| join_path(path, &f));
        self
    }

    /// `VALIDATION_FAILED` listing every problem.
    pub fn rejected(problems: Vec<Problem>) -> ApiError {
        let message = match problems.as_slice() {
            [one] => one.message.clone(),
            many => format!(
                "{} values are invalid: {}",
                many.len(),
                many.iter()
                    .map(|p| p.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        ApiError {
            code: ErrorCode::ValidationFailed,
            message,
            field: problems.first().map(|p| p.field.clone()),
            problems,
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::ValidationFailed, message).on_field(field)
    }

    /// Logs the cause and returns an error that says nothing about internals.
    pub fn internal(cause: impl std::fmt::Debug) -> ApiError {
        eprintln!("internal error: {cause:?}");
        ApiError::new(ErrorCode::Internal, "internal server error")
    }

    /// The transaction met a concurrent one it could not be ordered with (a serialization
    /// failure or a deadlock): running it again will most likely succeed.
    pub fn concurrent() -> ApiError {
        ApiError::new(ErrorCode::Unavailable, CONCURRENT)
    }

    /// Whether this is [`ApiError::concurrent`]: the transaction may be run again.
    pub fn is_concurrent(&self) -> bool {
        self.code == ErrorCode::Unavailable && self.message == CONCURRENT
    }

    pub fn unavailable(cause: impl std::fmt::Debug) -> ApiError {
        eprintln!("database unavailable: {cause:?}");
        ApiError::new(
            ErrorCode::Unavailable,
            "the database is unavailable, try again",
        )
    }
}

const CONCURRENT: &str = "the write met a concurrent one; try again";

/// `input` + `title` = `input.title`; `inputs` + `[2]` = `inputs[2]`.
pub fn join_path(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => base.to_string(),
        _ if rest.starts_with('[') => format!("{base}{rest}"),
        _ => format!("{base}.{rest}"),
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> async_graphql::Error {
        let mut error = async_graphql::Error::new(e.message);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", e.code.as_str());
        if let Some(field) = e.field {
            ext.set("field", field);
        }
        if !e.problems.is_empty() {
            let list: Vec<async_graphql::Value> = e
                .problems
                .into_iter()
                .map(|p| {
                    let mut entry = async_graphql::indexmap::IndexMap::new();
                    entry.insert(
                        async_graphql::Name::new("field"),
                        async_graphql::Value::from(p.field),
                    );
                    entry.insert(
                        async_graphql::Name::new("code"),
                        async_graphql::Value::from(p.code),
                    );
                    entry.insert(
                        async_graphql::Name::new("message"),
                        async_graphql::Value::from(p.message),
                    );
                    async_graphql::Value::Object(entry)
                })
                .collect();
            ext.set("errors", async_graphql::Value::List(list));
        }
        error.extensions = Some(ext);
        error
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match &e {
            DbError::NotFound => ApiError::new(ErrorCode::NotFound, "not found"),
            DbError::DatabaseError(kind, info) => {
                let message = info.message();
                let postgres = dialect() == Dialect::Postgres;
                let (code, text) = match classify(kind, message) {
                    DatabaseErrorKind::UniqueViolation => {
                        let fields = match postgres {
                            false => constraint_fields(message),
                            true => {
                                unique_constraint_fields(info.table_name(), info.constraint_name())
                            }
                        };
                        let text = match fields.len() {
                            0 => "a row with these values already exists".to_string(),
                            1 => format!("another row already has this `{}`", fields[0]),
                            _ => format!(
                                "another row already has this combination of {}",
                                fields
                                    .iter()
                                    .map(|f| format!("`{f}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        };
                        let problems = fields
                            .iter()
                            .map(|f| Problem {
                                field: f.clone(),
                                code: "UNIQUE",
                                message: text.clone(),
                            })
                            .collect();
                        return ApiError {
                            code: ErrorCode::UniqueViolation,
                            message: text,
                            field: fields.first().cloned(),
                            problems,
                        };
                    }
                    // Writes check their references first and name the field; what is left is a
                    // delete or unlink of a row that others still point at.
                    DatabaseErrorKind::ForeignKeyViolation
                    | DatabaseErrorKind::RestrictViolation => (
                        ErrorCode::Conflict,
                        "the row is still referenced by other rows".to_string(),
                    ),
                    // A column the database keeps NOT NULL that the manifest lets the API leave
                    // empty (a table another program owns): named, so the client knows what to give.
                    DatabaseErrorKind::NotNullViolation => {
                        let field = match postgres {
                            false => constraint_fields(message).into_iter().next(),
                            true => info
                                .table_name()
                                .zip(info.column_name())
                                .and_then(|(t, c)| crate::models::graphql_field(t, c))
                                .map(str::to_string),
                        };
                        return match field {
                            Some(field) => ApiError::rejected(vec![Problem {
                                message: format!(
                                    "`{field}` is required: the database refuses an empty value"
                                ),
                                field,
                                code: "REQUIRED",
                            }]),
                            None => ApiError::new(
                                ErrorCode::ValidationFailed,
                                "a required value is missing",
                            ),
                        };
                    }
                    DatabaseErrorKind::CheckViolation => {
                        let name = match postgres {
                            false => message.split_once("failed: ").map_or("", |(_, name)| name),
                            true => info.constraint_name().unwrap_or(""),
                        };
                        return match crate::models::check_failure(name) {
                            Some((field, text)) => ApiError::rejected(vec![Problem {
                                field: field.into(),
                                code: "CHECK",
                                message: text.into(),
                            }]),
                            None => ApiError::new(
                                ErrorCode::ValidationFailed,
                                "a value is not allowed here",
                            ),
                        };
                    }
                    // PostgreSQL: another transaction wrote what this one read, or the two waited
                    // on each other's locks (SQLSTATE 40001, 40P01); the server runs the
                    // transaction again (see `Conn::transaction`), and says this if it keeps failing.
                    DatabaseErrorKind::SerializationFailure => return ApiError::concurrent(),
                    _ if info.sqlstate() == Some(diesel::pg::sql_state::T_R_DEADLOCK_DETECTED) => {
                        return ApiError::concurrent()
                    }
                    DatabaseErrorKind::ReadOnlyTransaction => {
                        return ApiError::new(
                            ErrorCode::Unavailable,
                            "this server serves its database read-only",
                        )
                    }
                    _ if message.contains("database is locked") => {
                        return ApiError::unavailable(&e)
                    }
                    _ if message.contains("readonly database") => {
                        return ApiError::new(
                            ErrorCode::Unavailable,
                            "this server serves its database read-only",
                        )
                    }
                    // The request's progress handler stopped the statement (see `budget.rs`).
                    _ if message == "interrupted" => return ApiError::timeout(),
                    _ => return ApiError::internal(&e),
                };
                ApiError::new(code, text)
            }
            _ => ApiError::internal(&e),
        }
    }
}

/// The kind of a database error; SQLite reports some constraint failures (a RESTRICT on delete,
/// for one) with a generic code, and only its message tells which constraint failed.
fn classify<'a>(kind: &'a DatabaseErrorKind, message: &str) -> &'a DatabaseErrorKind {
    if !matches!(kind, DatabaseErrorKind::Unknown) {
        return kind;
    }
    if message.starts_with("FOREIGN KEY constraint failed") {
        &DatabaseErrorKind::ForeignKeyViolation
    } else if message.starts_with("UNIQUE constraint failed") {
        &DatabaseErrorKind::UniqueViolation
    } else if message.starts_with("NOT NULL constraint failed") {
        &DatabaseErrorKind::NotNullViolation
    } else if message.starts_with("CHECK constraint failed") {
        &DatabaseErrorKind::CheckViolation
    } else {
        kind
    }
}

/// The API fields of a PostgreSQL unique constraint, by the names the migrations give them
/// (`<table>_<columns>_key`); none for one the server does not know.
fn unique_constraint_fields(table: Option<&str>, constraint: Option<&str>) -> Vec<String> {
    let (Some(table), Some(constraint)) = (table, constraint) else {
        return Vec::new();
    };
    let Some(model) = crate::models::MODELS.iter().find(|m| m.table == table) else {
        return Vec::new();
    };
    model
        .unique_keys
        .iter()
        .find(|columns| format!("{table}_{}_key", columns.join("_")) == constraint)
        .map(|columns| {
            columns
                .iter()
                .filter_map(|c| crate::models::graphql_field(table, c))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The API field names in a SQLite constraint message such as
/// `UNIQUE constraint failed: posts.author_id, posts.slug`.
fn constraint_fields(message: &str) -> Vec<String> {
    let Some((_, columns)) = message.split_once("failed: ") else {
        return Vec::new();
    };
    columns
        .split(", ")
        .filter_map(|qualified| qualified.split_once('.'))
        .filter_map(|(table, column)| crate::models::graphql_field(table, column))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_fields_and_indexes() {
        assert_eq!(join_path("input", "title"), "input.title");
        assert_eq!(join_path("inputs", "[2]"), "inputs[2]");
        assert_eq!(join_path("", "title"), "title");
        let e = ApiError::invalid("title", "too long").at("input.posts.create[1]");
        assert_eq!(e.field.as_deref(), Some("input.posts.create[1].title"));
        assert_eq!(e.problems[0].field, "input.posts.create[1].title");
    }

    #[test]
    fn rejections_list_every_problem() {
        let p = |field: &str| Problem {
            field: field.into(),
            code: "MAX_LENGTH",
            message: format!("`{field}` is too long"),
        };
        let e = ApiError::rejected(vec![p("a"), p("b")]);
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.field.as_deref(), Some("a"));
        assert!(
            e.message.starts_with("2 values are invalid"),
            "{}",
            e.message
        );
        let gql: async_graphql::Error = e.into();
        let ext = serde_json::to_value(gql.extensions.unwrap()).unwrap();
        assert_eq!(ext["errors"][1]["field"], "b");
        assert_eq!(ext["errors"][1]["code"], "MAX_LENGTH");
    }
}
