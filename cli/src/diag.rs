//! Diagnostics are data: a stable code, a span, a message, help and an optional suggestion.
//!
//! Validation collects them and never stops at the first; the command layer renders them either
//! as a readable report with the source line, or as one `file:line:col: CODE: message` line each.

use std::fmt::Write as _;

/// A position in the manifest: 1-based line and column (in characters), and a length to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

/// How serious a diagnostic is. Errors make `check` and `generate` exit with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Every diagnostic code gqlauto emits. The codes are stable: documented in `docs/manifest.md`
/// and safe to match on in CI scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The file is not valid YAML or JSON.
    Syntax,
    /// A key is unknown, missing or holds a value of the wrong type.
    Shape,
    /// `version` is not a supported manifest version.
    Version,
    /// A name is not a valid identifier of the required case.
    InvalidName,
    /// A name is a Rust keyword, GraphQL-reserved or reserved by the generated code.
    ReservedName,
    /// A key appears twice in one mapping.
    Duplicate,
    /// Two names become the same after case conversion.
    NameClash,
    /// Two models map to one table, or two fields to one column.
    TableClash,
    /// An unknown field type.
    UnknownType,
    /// A model has no primary key, or more than one.
    PrimaryKey,
    /// An option that does not apply to the field's type, or a missing required option.
    FieldOption,
    /// A default value that does not fit the field's type.
    BadDefault,
    /// An enum with no values, duplicate values or malformed values.
    EnumValues,
    /// A relation names a model that does not exist.
    UnknownModel,
    /// A relation is inconsistent (on_delete, through model, related name).
    Relation,
    /// A constraint, index or ordering names a field that does not exist.
    UnknownField,
    /// An API setting is out of range.
    ApiSetting,
    /// A declared ordering no index can serve (a warning).
    UnindexedOrdering,
    /// The default ordering of a table gqlauto does not manage starts with no index (a warning).
    UnindexedForeignOrdering,
    /// A client's filter, ordering or grouping on a table gqlauto does not manage that no index
    /// serves (a warning of `check --queries`).
    UnindexedRead,
    /// A role or permission that names an unknown role, field, operator or claim, or grants a
    /// write without the read it needs.
    Permission,
}

impl Code {
    /// The stable code printed in every rendering.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "E001",
            Code::Shape => "E002",
            Code::Version => "E003",
            Code::InvalidName => "E101",
            Code::ReservedName => "E102",
            Code::Duplicate => "E103",
            Code::NameClash => "E104",
            Code::TableClash => "E105",
            Code::UnknownType => "E201",
            Code::PrimaryKey => "E202",
            Code::FieldOption => "E203",
            Code::BadDefault => "E204",
            Code::EnumValues => "E205",
            Code::UnknownModel => "E301",
            Code::Relation => "E302",
            Code::UnknownField => "E303",
            Code::ApiSetting => "E401",
            Code::UnindexedOrdering => "W501",
            Code::UnindexedForeignOrdering => "W502",
            Code::UnindexedRead => "W503",
            Code::Permission => "E601",
        }
    }
}

/// One finding about the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Option<Span>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code, message: message.into(), span, help: None }
    }

    pub fn warning(code: Code, span: Option<Span>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, code, message: message.into(), span, help: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(got: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&got.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Renders diagnostics for people: rustc-like blocks that quote the offending source line.
pub fn render_report(file: &str, source: &str, diags: &[Diagnostic]) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    for d in diags {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}[{}]: {}", d.code.as_str(), d.message);
        match d.span {
            Some(span) => {
                let num = span.line.to_string();
                let pad = " ".repeat(num.len());
                let _ = writeln!(out, "{pad}--> {file}:{}:{}", span.line, span.col);
                if let Some(text) = lines.get(span.line.saturating_sub(1)) {
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{num} | {text}");
                    let lead: String = text.chars().take(span.col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
                    let _ = writeln!(out, "{pad} | {lead}{}", "^".repeat(span.len));
                }
                if let Some(help) = &d.help {
                    let _ = writeln!(out, "{pad} = help: {help}");
                }
            }
            None => {
                let _ = writeln!(out, " --> {file}");
                if let Some(help) = &d.help {
                    let _ = writeln!(out, "  = help: {help}");
                }
            }
        }
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let _ = writeln!(out, "{file}: {errors} error(s), {warnings} warning(s)");
    out
}

/// Renders one `file:line:col: CODE: message` line per diagnostic, for CI logs and editors.
pub fn render_short(file: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let (line, col) = d.span.map_or((1, 1), |s| (s.line, s.col));
        let sev = if d.is_error() { "" } else { "warning: " };
        let _ = write!(out, "{file}:{line}:{col}: {sev}{}: {}", d.code.as_str(), d.message);
        if let Some(help) = &d.help {
            let _ = write!(out, " (help: {help})");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_closest_candidate() {
        assert_eq!(did_you_mean("strng", ["string", "integer", "text"]).as_deref(), Some("did you mean `string`?"));
        assert_eq!(did_you_mean("zzzz", ["string", "integer"]), None);
    }

    #[test]
    fn report_underlines_the_span() {
        let d = Diagnostic::error(Code::UnknownType, Some(Span { line: 2, col: 8, len: 5 }), "unknown field type `strng`")
            .with_help("did you mean `string`?");
        let out = render_report("m.yaml", "a: 1\ntitle: strng\n", std::slice::from_ref(&d));
        assert!(out.contains("2 | title: strng\n  |        ^^^^^\n"), "{out}");
        assert_eq!(render_short("m.yaml", &[d]), "m.yaml:2:8: E201: unknown field type `strng` (help: did you mean `string`?)\n");
    }
}
