//! Field kinds and the types each maps to in Rust, Diesel, SQL (SQLite) and GraphQL.

/// How a primary key is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkKind {
    /// 32-bit autoincrement integer.
    Auto,
    /// 64-bit autoincrement integer.
    BigAuto,
    /// Random UUID, stored as text.
    Uuid,
    /// A string the client gives when it creates the row (`code: { type: string, primary_key: true }`).
    Text { max_length: u32 },
    /// A number the client gives when it creates the row (`number: { type: integer, primary_key:
    /// true }`): 64-bit with `big_integer`.
    Integer { big: bool },
}

impl PkKind {
    /// Whether keys of this kind are integers (otherwise text).
    pub fn is_integer(self) -> bool {
        matches!(self, PkKind::Auto | PkKind::BigAuto | PkKind::Integer { .. })
    }

    /// Whether the server generates the key (otherwise the client gives it on create).
    pub fn is_generated(self) -> bool {
        !matches!(self, PkKind::Text { .. } | PkKind::Integer { .. })
    }

    /// The generated runtime's `KeyKind` of keys of this kind.
    pub fn runtime(self) -> &'static str {
        match self {
            PkKind::Auto | PkKind::BigAuto | PkKind::Integer { .. } => "KeyKind::Int",
            PkKind::Uuid => "KeyKind::Uuid",
            PkKind::Text { .. } => "KeyKind::Text",
        }
    }
}

/// How a model check compares its two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Comparison {
    /// Every comparison with its symbol, two-character symbols first (so `<` is not found
    /// inside `<=`).
    pub const ALL: [(&'static str, Comparison); 6] = [
        ("<=", Comparison::Le),
        (">=", Comparison::Ge),
        ("!=", Comparison::Ne),
        ("=", Comparison::Eq),
        ("<", Comparison::Lt),
        (">", Comparison::Gt),
    ];

    /// The symbol, as manifests and SQL write it.
    pub fn symbol(self) -> &'static str {
        Comparison::ALL.iter().find(|(_, c)| *c == self).map_or("=", |(s, _)| s)
    }

    /// The variant of the generated runtime's `Cmp`.
    pub fn runtime(self) -> &'static str {
        match self {
            Comparison::Lt => "Cmp::Lt",
            Comparison::Le => "Cmp::Le",
            Comparison::Gt => "Cmp::Gt",
            Comparison::Ge => "Cmp::Ge",
            Comparison::Eq => "Cmp::Eq",
            Comparison::Ne => "Cmp::Ne",
        }
    }
}

/// Refinements of a bounded string, checked on every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Plain,
    Email,
    Url,
    Slug,
}

/// Non-relation value types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScalarKind {
    Integer,
    BigInteger,
    Float,
    Decimal {
        max_digits: u32,
        decimal_places: u32,
    },
    Boolean,
    String {
        max_length: u32,
        format: TextFormat,
    },
    Text,
    Date,
    DateTime,
    Time,
    Uuid,
    Json,
    /// A closed set of lowercase values; `type_name` is the GraphQL and Rust enum name.
    Enum {
        type_name: String,
        values: Vec<String>,
    },
}

/// What a column-backed field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    PrimaryKey(PkKind),
    Scalar(ScalarKind),
    /// A foreign key (or one-to-one) column; its value type is the target's primary key type.
    ForeignKey {
        target: String,
        target_table: String,
        target_column: String,
        target_pk: PkKind,
        on_delete: OnDelete,
        one_to_one: bool,
        related_name: Option<String>,
    },
}

/// What deleting a referenced row does to rows that point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    Cascade,
    Restrict,
    SetNull,
    /// Like restrict; named after the Django option so imported projects read the same.
    Protect,
}

impl OnDelete {
    pub const NAMES: [&'static str; 4] = ["cascade", "restrict", "set_null", "protect"];

    pub fn parse(s: &str) -> Option<OnDelete> {
        match s {
            "cascade" => Some(OnDelete::Cascade),
            "restrict" => Some(OnDelete::Restrict),
            "set_null" => Some(OnDelete::SetNull),
            "protect" => Some(OnDelete::Protect),
            _ => None,
        }
    }

    /// The SQL `ON DELETE` action.
    pub fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            OnDelete::Restrict | OnDelete::Protect => "RESTRICT",
            OnDelete::SetNull => "SET NULL",
        }
    }
}

/// A field's types, decided once. All are the non-null forms; `Field::nullable` wraps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Types {
    /// Rust type of the Diesel row field.
    pub rust: String,
    /// Diesel SQL type in `table!`.
    pub diesel: String,
    /// SQLite column type.
    pub sql: String,
    /// GraphQL type name exposed for the value.
    pub graphql: String,
    /// Whether the Rust type is `Copy` (values are copied, not cloned).
    pub copy: bool,
}

fn types(rust: &str, diesel: &str, sql: &str, graphql: &str) -> Types {
    Types { rust: rust.into(), diesel: diesel.into(), sql: sql.into(), graphql: graphql.into(), copy: rust != "String" }
}

impl PkKind {
    /// Types of the primary key column, and of every foreign key column pointing at it.
    pub fn types(self) -> Types {
        match self {
            PkKind::Auto => types("i32", "Integer", "INTEGER", "ID"),
            PkKind::BigAuto => types("i64", "BigInt", "INTEGER", "ID"),
            PkKind::Uuid => types("String", "Text", "TEXT", "ID"),
            PkKind::Text { max_length } => types("String", "Text", &format!("VARCHAR({max_length})"), "ID"),
            PkKind::Integer { big: false } => types("i32", "Integer", "INTEGER", "ID"),
            PkKind::Integer { big: true } => types("i64", "BigInt", "INTEGER", "ID"),
        }
    }
}

impl ScalarKind {
    pub fn types(&self) -> Types {
        match self {
            ScalarKind::Integer => types("i32", "Integer", "INTEGER", "Int"),
            ScalarKind::BigInteger => types("i64", "BigInt", "BIGINT", "BigInt"),
            ScalarKind::Float => types("f64", "Double", "DOUBLE", "Float"),
            // SQLite has no exact decimal; text keeps every digit and sorts correctly only per scale,
            // which is why values are normalised to `decimal_places` on write.
            ScalarKind::Decimal { .. } => types("String", "Text", "TEXT", "Decimal"),
            ScalarKind::Boolean => types("bool", "Bool", "BOOLEAN", "Boolean"),
            ScalarKind::String { max_length, format } => {
                let graphql = match format {
                    TextFormat::Plain => "String",
                    TextFormat::Email => "Email",
                    TextFormat::Url => "URL",
                    TextFormat::Slug => "Slug",
                };
                types("String", "Text", &format!("VARCHAR({max_length})"), graphql)
            }
            ScalarKind::Text => types("String", "Text", "TEXT", "String"),
            ScalarKind::Date => types("chrono::NaiveDate", "Date", "DATE", "Date"),
            ScalarKind::DateTime => types("chrono::DateTime<chrono::Utc>", "TimestamptzSqlite", "TIMESTAMPTZ", "DateTime"),
            ScalarKind::Time => types("chrono::NaiveTime", "Time", "TIME", "Time"),
            ScalarKind::Uuid => types("String", "Text", "TEXT", "UUID"),
            ScalarKind::Json => types("String", "Text", "TEXT", "JSON"),
            ScalarKind::Enum { type_name, .. } => types("String", "Text", "TEXT", type_name),
        }
    }
}

impl FieldKind {
    pub fn types(&self) -> Types {
        match self {
            FieldKind::PrimaryKey(pk) => pk.types(),
            FieldKind::Scalar(s) => s.types(),
            FieldKind::ForeignKey { target_pk, .. } => target_pk.types(),
        }
    }
}
