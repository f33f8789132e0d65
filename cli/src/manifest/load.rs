//! Reading a manifest file into [`RawManifest`], with syntax and shape errors as diagnostics.
//!
//! This is the only module that knows serde_yaml and serde_json, so either can be swapped.

use std::path::Path;

use crate::diag::{did_you_mean, Code, Diagnostic, Span};
use crate::manifest::raw::RawManifest;
use crate::manifest::spans::SpanIndex;

/// The manifest's source format, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// `.yaml`/`.yml` → YAML, `.json` → JSON, anything else → `None`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// A parsed manifest with everything needed to report on it.
#[derive(Debug)]
pub struct Loaded {
    pub raw: Option<RawManifest>,
    pub spans: SpanIndex,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `source`. Syntax and shape problems become diagnostics; `raw` is `None` when there are any.
pub fn load_str(source: &str, format: Format) -> Loaded {
    let spans = SpanIndex::build(source);
    // Both decoders let a repeated key silently replace the first (or report it as a syntax
    // error); the span index saw every occurrence, so report them all with both places.
    if !spans.duplicates.is_empty() {
        // A repeated map repeats its inner keys too; report only the outermost repetition.
        let outer = |path: &Vec<String>| !spans.duplicates.iter().any(|(other, _, _)| other.len() < path.len() && path.starts_with(other));
        let diagnostics = spans.duplicates.iter().filter(|d| outer(&d.0)).map(duplicate).collect();
        return Loaded { raw: None, spans, diagnostics };
    }
    let result = match format {
        Format::Yaml => load_yaml(source),
        Format::Json => load_json(source),
    };
    match result {
        Ok(raw) => Loaded { raw: Some(raw), spans, diagnostics: Vec::new() },
        Err(d) => Loaded { raw: None, spans, diagnostics: vec![d] },
    }
}

fn load_yaml(source: &str) -> Result<RawManifest, Diagnostic> {
    // A first parse into an untyped value separates syntax errors from shape errors.
    if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(source) {
        let span = e.location().map(|l| Span { line: l.line(), col: l.column(), len: 1 });
        return Err(Diagnostic::error(Code::Syntax, span, format!("invalid YAML: {}", strip_location(&e.to_string())))
            .with_help("fix the YAML syntax at this position (indentation, quoting, `key: value` pairs)"));
    }
    serde_yaml::from_str::<RawManifest>(source).map_err(|e| {
        let span = e.location().map(|l| Span { line: l.line(), col: l.column(), len: 1 });
        shape_error(&e.to_string(), span)
    })
}

fn load_json(source: &str) -> Result<RawManifest, Diagnostic> {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(source) {
        let span = Some(Span { line: e.line().max(1), col: e.column().max(1), len: 1 });
        return Err(Diagnostic::error(Code::Syntax, span, format!("invalid JSON: {}", strip_location(&e.to_string())))
            .with_help("fix the JSON syntax at this position (commas, quotes, brackets)"));
    }
    serde_json::from_str::<RawManifest>(source).map_err(|e| {
        let span = Some(Span { line: e.line().max(1), col: e.column().max(1), len: 1 });
        shape_error(&e.to_string(), span)
    })
}

fn duplicate((path, span, first): &(Vec<String>, Span, Span)) -> Diagnostic {
    let what = match path.as_slice() {
        [m, _] if m == "models" => "model",
        [m, _, f, _] if m == "models" && f == "fields" => "field",
        _ => "key",
    };
    let name = path.last().map(String::as_str).unwrap_or_default();
    Diagnostic::error(Code::Duplicate, Some(*span), format!("duplicate {what} `{name}`"))
        .with_help(format!("`{name}` is already declared at line {}; rename or remove one of them", first.line))
}

/// serde's messages carry " at line L column C" (at the end, or before a clause); the span
/// already says where, so the words are dropped.
fn strip_location(msg: &str) -> String {
    let mut out = msg.to_string();
    while let Some(start) = out.find(" at line ") {
        let rest = &out[start + " at line ".len()..];
        let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).count();
        let line_len = digits(rest);
        let Some(after) = rest[line_len..].strip_prefix(" column ") else { break };
        let end = start + " at line ".len() + line_len + " column ".len() + digits(after);
        out.replace_range(start..end, "");
    }
    out
}

/// Turns a serde shape error into a diagnostic with a useful help line.
fn shape_error(full: &str, span: Option<Span>) -> Diagnostic {
    let msg = strip_location(full);
    let msg = msg.as_str();
    let help = if let Some(rest) = msg.split("unknown field `").nth(1) {
        let got = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = msg
            .split("expected one of ")
            .nth(1)
            .or_else(|| msg.split("expected ").nth(1))
            .map(|list| list.split(", ").map(|s| s.trim_matches('`')).collect())
            .unwrap_or_default();
        did_you_mean(got, expected.iter().copied())
            .unwrap_or_else(|| "remove this key; docs/manifest.md lists the keys allowed here".to_string())
    } else if msg.contains("missing field") {
        "add the missing key; docs/manifest.md lists the required keys".to_string()
    } else {
        "change the value to the type named above; docs/manifest.md describes every key".to_string()
    };
    Diagnostic::error(Code::Shape, span, msg.to_string()).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_shape_errors_with_suggestions() {
        let l = load_str("version: 1\nname: x\nmodels: {}\nmodle: 3\n", Format::Yaml);
        let d = &l.diagnostics[0];
        assert_eq!(d.code, Code::Shape);
        assert_eq!(d.span.map(|s| s.line), Some(4));
        assert_eq!(d.help.as_deref(), Some("did you mean `models`?"));
    }

    #[test]
    fn locations_are_removed_from_messages() {
        assert_eq!(
            strip_location("did not find expected key at line 7 column 6, while parsing"),
            "did not find expected key, while parsing"
        );
        assert_eq!(strip_location("trailing comma at line 5 column 41"), "trailing comma");
    }

    #[test]
    fn duplicate_keys_are_reported_at_both_places() {
        let l = load_str("version: 1\nname: x\nmodels:\n  A: {fields: {id: auto}}\n  A: {fields: {id: auto}}\n", Format::Yaml);
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].code, Code::Duplicate);
        assert_eq!(l.diagnostics[0].span.map(|s| s.line), Some(5));
    }

    #[test]
    fn syntax_errors_are_reported_with_a_position() {
        let l = load_str("{\"version\": 1,,}", Format::Json);
        assert_eq!(l.diagnostics[0].code, Code::Syntax);
        assert_eq!(l.diagnostics[0].span.map(|s| (s.line, s.col)), Some((1, 15)));
    }
}
