//! A change is data: a stable kind, a schema coordinate, a criticality with its reason, and the old
//! and new values. The message is derived from those, so the JSON and the human report agree.

use serde::Serialize;

/// How much a change can hurt. Ordered: `Safe < Dangerous < Breaking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Nothing that worked stops working.
    Safe,
    /// Valid clients keep validating, but may see values or behaviour they do not expect.
    Dangerous,
    /// Some valid client request, or some stored row, stops working or is lost.
    Breaking,
}

/// Which side of the server a change affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The GraphQL API clients call.
    Api,
    /// The tables and the rows in them.
    Database,
    /// Who may read and write which rows.
    Permissions,
}

macro_rules! kinds {
    ($($kind:ident => $js:expr,)*) => {
        /// Every kind of change, with its stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        #[allow(clippy::enum_variant_names)]
        pub enum ChangeKind { $($kind,)* }

        impl ChangeKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ChangeKind] = &[$(ChangeKind::$kind,)*];

            /// The name graphql-js's `findBreakingChanges` / `findDangerousChanges` give the same change,
            /// when it reports it (it does not report safe changes, nor some kinds gqlauto adds).
            pub fn graphql_js(self) -> Option<&'static str> {
                match self { $(ChangeKind::$kind => $js,)* }
            }
        }
    };
}

kinds! {
    TypeAdded => None,
    TypeRemoved => Some("TYPE_REMOVED"),
    TypeKindChanged => Some("TYPE_CHANGED_KIND"),
    DescriptionChanged => None,
    DeprecationAdded => None,
    DeprecationRemoved => None,
    DeprecationReasonChanged => None,
    RootTypeChanged => None,
    UnionMemberAdded => Some("TYPE_ADDED_TO_UNION"),
    UnionMemberRemoved => Some("TYPE_REMOVED_FROM_UNION"),
    EnumValueAdded => Some("VALUE_ADDED_TO_ENUM"),
    EnumValueRemoved => Some("VALUE_REMOVED_FROM_ENUM"),
    InterfaceAdded => Some("IMPLEMENTED_INTERFACE_ADDED"),
    InterfaceRemoved => Some("IMPLEMENTED_INTERFACE_REMOVED"),
    FieldAdded => None,
    FieldRemoved => Some("FIELD_REMOVED"),
    FieldTypeChanged => Some("FIELD_CHANGED_KIND"),
    InputFieldAddedRequired => Some("REQUIRED_INPUT_FIELD_ADDED"),
    InputFieldAddedOptional => Some("OPTIONAL_INPUT_FIELD_ADDED"),
    InputFieldRemoved => Some("FIELD_REMOVED"),
    InputFieldTypeChanged => Some("FIELD_CHANGED_KIND"),
    InputFieldDefaultChanged => None,
    ArgAddedRequired => Some("REQUIRED_ARG_ADDED"),
    ArgAddedOptional => Some("OPTIONAL_ARG_ADDED"),
    ArgRemoved => Some("ARG_REMOVED"),
    ArgTypeChanged => Some("ARG_CHANGED_KIND"),
    ArgDefaultChanged => Some("ARG_DEFAULT_VALUE_CHANGE"),
    ArgDefaultAdded => None,
    ScalarSpecifiedByChanged => None,
    DirectiveAdded => None,
    DirectiveRemoved => Some("DIRECTIVE_REMOVED"),
    DirectiveArgAddedRequired => Some("REQUIRED_DIRECTIVE_ARG_ADDED"),
    DirectiveArgAddedOptional => None,
    DirectiveArgRemoved => Some("DIRECTIVE_ARG_REMOVED"),
    DirectiveArgTypeChanged => None,
    DirectiveArgDefaultChanged => None,
    DirectiveLocationAdded => None,
    DirectiveLocationRemoved => Some("DIRECTIVE_LOCATION_REMOVED"),
    DirectiveRepeatableAdded => None,
    DirectiveRepeatableRemoved => Some("DIRECTIVE_REPEATABLE_REMOVED"),
    TableAdded => None,
    TableDropped => None,
    TableRenamed => None,
    ColumnAdded => None,
    ColumnAddedRequired => None,
    ColumnDropped => None,
    ColumnRenamed => None,
    ColumnTypeChanged => None,
    ColumnTypeNarrowed => None,
    ColumnDefaultChanged => None,
    ForeignKeyActionChanged => None,
    NotNullAdded => None,
    NotNullRemoved => None,
    UniqueAdded => None,
    UniqueRemoved => None,
    CheckAdded => None,
    CheckRemoved => None,
    RelationCardinalityChanged => None,
    StoredEnumValueRemoved => None,
    IndexAdded => None,
    IndexRemoved => None,
    AccessControlAdded => None,
    AccessControlRemoved => None,
    RoleAdded => None,
    RoleRemoved => None,
    GrantAdded => None,
    GrantRemoved => None,
    RowRuleAdded => None,
    RowRuleRemoved => None,
    RowRuleChanged => None,
    RoleSchemaChanged => None,
    RowRuleLoosened => None,
    RowRuleTightened => None,
}

impl ChangeKind {
    /// The stable code, as in JSON output.
    pub fn code(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criticality {
    pub level: Level,
    pub reason: String,
}

/// One difference between the old and the new schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub scope: Scope,
    /// A schema coordinate (`Type.field(arg:)`, `Enum.VALUE`, `@directive(arg:)`), or for the database
    /// `table` / `table.column`.
    pub coordinate: String,
    pub criticality: Criticality,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub message: String,
    /// A removal of something the old schema had already deprecated.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub was_deprecated: bool,
}

impl Change {
    pub fn new(kind: ChangeKind, scope: Scope, coordinate: String, level: Level, reason: impl Into<String>) -> Change {
        let mut c = Change {
            kind,
            scope,
            coordinate,
            criticality: Criticality { level, reason: reason.into() },
            old: None,
            new: None,
            message: String::new(),
            was_deprecated: false,
        };
        c.message = message(&c);
        c
    }

    pub fn values(mut self, old: Option<String>, new: Option<String>) -> Change {
        self.old = old;
        self.new = new;
        self.message = message(&self);
        self
    }

    pub fn level(&self) -> Level {
        self.criticality.level
    }
}

/// `` `old` `` → `` `new` `` for messages; absent sides print as `none`.
fn arrow(c: &Change) -> String {
    let side = |v: &Option<String>| v.as_ref().map_or("none".to_string(), |v| format!("`{v}`"));
    format!("{} to {}", side(&c.old), side(&c.new))
}

fn message(c: &Change) -> String {
    use ChangeKind::*;
    let at = &c.coordinate;
    let new = c.new.as_deref().unwrap_or_default();
    let old = c.old.as_deref().unwrap_or_default();
    match c.kind {
        TypeAdded => format!("Type `{at}` was added"),
        TypeRemoved => format!("Type `{at}` was removed"),
        TypeKindChanged => format!("`{at}` changed from {old} to {new}"),
        DescriptionChanged => format!("Description of `{at}` changed from {}", arrow(c)),
        DeprecationAdded => format!("`{at}` was deprecated (\"{new}\")"),
        DeprecationRemoved => format!("`{at}` is no longer deprecated"),
        DeprecationReasonChanged => format!("Deprecation reason of `{at}` changed from {}", arrow(c)),
        RootTypeChanged => format!("The {at} root type changed from {}", arrow(c)),
        UnionMemberAdded => format!("`{new}` was added to union `{at}`"),
        UnionMemberRemoved => format!("`{old}` was removed from union `{at}`"),
        EnumValueAdded => format!("Enum value `{at}` was added"),
        EnumValueRemoved => format!("Enum value `{at}` was removed"),
        InterfaceAdded => format!("`{at}` now implements `{new}`"),
        InterfaceRemoved => format!("`{at}` no longer implements `{old}`"),
        FieldAdded => format!("Field `{at}` was added"),
        FieldRemoved => format!("Field `{at}` was removed"),
        FieldTypeChanged | InputFieldTypeChanged | ArgTypeChanged | DirectiveArgTypeChanged => {
            format!("Type of `{at}` changed from {}", arrow(c))
        }
        InputFieldAddedRequired => format!("Required input field `{at}` was added"),
        InputFieldAddedOptional => format!("Optional input field `{at}` was added"),
        InputFieldRemoved => format!("Input field `{at}` was removed"),
        InputFieldDefaultChanged | ArgDefaultChanged | ArgDefaultAdded | DirectiveArgDefaultChanged => {
            format!("Default of `{at}` changed from {}", arrow(c))
        }
        ArgAddedRequired | DirectiveArgAddedRequired => format!("Required argument `{at}` was added"),
        ArgAddedOptional | DirectiveArgAddedOptional => format!("Optional argument `{at}` was added"),
        ArgRemoved | DirectiveArgRemoved => format!("Argument `{at}` was removed"),
        ScalarSpecifiedByChanged => format!("Specification URL of `{at}` changed from {}", arrow(c)),
        DirectiveAdded => format!("Directive `{at}` was added"),
        DirectiveRemoved => format!("Directive `{at}` was removed"),
        DirectiveLocationAdded => format!("`{at}` may now be used on {new}"),
        DirectiveLocationRemoved => format!("`{at}` may no longer be used on {old}"),
        DirectiveRepeatableAdded => format!("`{at}` became repeatable"),
        DirectiveRepeatableRemoved => format!("`{at}` is no longer repeatable"),
        TableAdded => format!("Table `{at}` will be created"),
        TableDropped => format!("Table `{at}` will be dropped with all its rows"),
        TableRenamed => format!("Table `{old}` will be renamed to `{at}`"),
        ColumnAdded => format!("Column `{at}` will be added"),
        ColumnAddedRequired => format!("NOT NULL column `{at}` without a default will be added"),
        ColumnDropped => format!("Column `{at}` will be dropped with its values"),
        ColumnRenamed => format!("Column `{old}` will be renamed to `{at}`"),
        ColumnTypeChanged => format!("Column `{at}` changes type from {}", arrow(c)),
        ColumnTypeNarrowed => format!("Column `{at}` narrows from {}", arrow(c)),
        ColumnDefaultChanged => format!("Default of column `{at}` changes from {}", arrow(c)),
        ForeignKeyActionChanged => format!("Deleting the row `{at}` points at changes from ON DELETE {old} to ON DELETE {new}"),
        NotNullAdded => format!("Column `{at}` becomes NOT NULL"),
        NotNullRemoved => format!("Column `{at}` becomes nullable"),
        UniqueAdded => format!("Unique constraint {new} will be added on `{at}`"),
        UniqueRemoved => format!("Unique constraint {old} on `{at}` will be removed"),
        CheckAdded => format!("Check `{new}` will be added on `{at}`"),
        CheckRemoved => format!("Check `{old}` on `{at}` will be removed"),
        RelationCardinalityChanged => format!("Relation `{at}` changes from {old} to {new}"),
        StoredEnumValueRemoved => format!("Value `{old}` is no longer allowed in column `{at}`"),
        IndexAdded => format!("Index `{new}` will be created on `{at}`"),
        IndexRemoved => format!("Index `{old}` on `{at}` will be dropped"),
        AccessControlAdded => format!("Roles are declared ({new}): everything not granted is now denied"),
        AccessControlRemoved => "No roles are declared any more: every caller may do everything".to_string(),
        RoleAdded => format!("Role `{at}` was added"),
        RoleRemoved => format!("Role `{at}` was removed: its callers are refused"),
        GrantAdded => format!("`{at}` is now granted"),
        GrantRemoved => format!("`{at}` is no longer granted"),
        RowRuleAdded => format!("`{at}` is now limited to rows matching `{new}`"),
        RowRuleRemoved => format!("`{at}` is no longer limited to rows matching `{old}`"),
        RowRuleChanged => format!("The rows of `{at}` change from {}", arrow(c)),
        RoleSchemaChanged => format!("For role {new}: {old}"),
        RowRuleLoosened => format!("The rows of `{at}` widen from {}", arrow(c)),
        RowRuleTightened => format!("The rows of `{at}` narrow from {}", arrow(c)),
    }
}
