//! Limits every request is held to before any of it runs.
//!
//! Checked in order, each in time proportional to what it has already accepted: the document's
//! size in tokens and its bracket nesting on the raw text (so the parser never recurses deeper than the limit), the
//! variables' nesting, then, on the parsed document, the operation's selection depth (introspection
//! excepted, so GraphiQL and code generators can load the schema), its number of fields including
//! aliases and fragment expansions, its root fields, and the directives on any one selection.
//! A refusal names the limit and the setting that raises it, and carries `LIMIT_EXCEEDED`.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Value, Variables};

/// The limits, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Deepest nesting of `{`, `[` and `(` in the document, and of lists and objects in variables.
    pub max_input_depth: usize,
    /// Most tokens in the document.
    pub max_tokens: usize,
    /// Deepest selection nesting outside introspection.
    pub max_depth: usize,
    /// Most field selections the operation may run, counting aliases and every fragment use.
    pub max_fields: usize,
    /// Most root fields (aliases included) in one operation.
    pub max_root_fields: usize,
    /// Most directives on one field or fragment.
    pub max_directives: usize,
    /// Largest complexity score (list fields multiply what they select by their page size).
    pub max_complexity: usize,
    /// Whether introspection (`__schema`, `__type`) may be queried.
    pub introspection: bool,
}

/// Why a request was refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn limit(message: String) -> Refusal {
        Refusal {
            code: "LIMIT_EXCEEDED",
            message,
        }
    }
}

/// Documents kept parsed, at most; past it the set starts over.
const DOCUMENTS_KEPT: usize = 256;

/// Longest document text kept parsed (larger ones are parsed each time).
const DOCUMENT_BYTES: usize = 8 * 1024;

/// Documents parsed before, by their text. Clients send the same few documents again and again,
/// with other variables; checking a document's text and parsing it was the largest single part of
/// a lookup's work in the server (about 12 % of its CPU on PostgreSQL). Only documents that passed
/// [`check_document`] and parsed are kept, at most [`DOCUMENTS_KEPT`] of at most
/// [`DOCUMENT_BYTES`] each, so what hostile texts can make the server hold is bounded, and a
/// stream of ever new texts only makes it start over.
#[derive(Default)]
pub struct Documents(std::sync::Mutex<HashMap<String, ExecutableDocument>>);

impl Documents {
    /// The document `text` parses to, if kept.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        self.kept().get(text).cloned()
    }

    /// Keeps `document`, parsed from `text` (which passed [`check_document`]).
    pub fn keep(&self, text: &str, document: &ExecutableDocument) {
        if text.len() > DOCUMENT_BYTES {
            return;
        }
        let mut kept = self.kept();
        if kept.len() >= DOCUMENTS_KEPT {
            kept.clear();
        }
        kept.insert(text.to_string(), document.clone());
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Refuses a document nested deeper than `max_depth` brackets or longer than `max_tokens`
/// tokens, before it is parsed. Strings, block strings and comments are skipped, so brackets
/// inside them do not count (a string counts as one token).
pub fn check_document(text: &str, max_depth: usize, max_tokens: usize) -> Result<(), Refusal> {
    let bytes = text.as_bytes();
    let (mut depth, mut tokens, mut i, mut in_word) = (0usize, 0usize, 0usize, false);
    while i < bytes.len() {
        let byte = bytes[i];
        let word = byte.is_ascii_alphanumeric()
            || matches!(byte, b'_' | b'-' | b'+' | b'.')
            || byte >= 0x80;
        let separator = byte.is_ascii_whitespace() || byte == b',' || byte == b'#';
        if !(separator || word && in_word) {
            tokens += 1;
            if tokens > max_tokens {
                return Err(Refusal::limit(format!(
                    "the document has more than {max_tokens} tokens (MAX_TOKENS)"
                )));
            }
        }
        in_word = word;
        match byte {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Refusal::limit(format!(
                        "the document nests brackets more than {max_depth} deep (MAX_INPUT_DEPTH)"
                    )));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Refuses variables whose lists and objects nest deeper than `max`.
pub fn check_variables(variables: &Variables, max: usize) -> Result<(), Refusal> {
    /// Whether the lists and objects in `value`, itself at `level`, nest no deeper than `max`.
    fn depth(value: &Value, level: usize, max: usize) -> bool {
        match value {
            Value::List(items) => level <= max && items.iter().all(|v| depth(v, level + 1, max)),
            Value::Object(fields) => {
                level <= max && fields.values().all(|v| depth(v, level + 1, max))
            }
            _ => true,
        }
    }
    match variables.iter().all(|(_, value)| depth(value, 1, max)) {
        true => Ok(()),
        false => Err(Refusal::limit(format!(
            "the variables nest lists or objects more than {max} deep (MAX_INPUT_DEPTH)"
        ))),
    }
}

/// The operation a request runs: the one named, or the only one.
pub fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Result<&'d Positioned<OperationDefinition>, Refusal> {
    let missing = |message: String| Refusal {
        code: "BAD_REQUEST",
        message,
    };
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Ok(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .ok_or_else(|| missing(format!("the document has no operation named `{name}`"))),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            Ok(ops.values().next().expect("one operation"))
        }
        (DocumentOperations::Multiple(_), None) => Err(missing(
            "the document has several operations: name one in `operationName`".into(),
        )),
    }
}

/// Checks the operation's shape against `limits` and returns its type.
pub fn check_operation(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    limits: &RequestLimits,
) -> Result<OperationType, Refusal> {
    let mut walk = Walk {
        document,
        limits,
        fields: 0,
        path: HashSet::new(),
    };
    let roots = walk.count_roots(&operation.selection_set.node)?;
    if roots > limits.max_root_fields {
        return Err(Refusal::limit(format!(
            "the operation selects {roots} root fields; at most {} are allowed (MAX_ROOT_FIELDS)",
            limits.max_root_fields
        )));
    }
    walk.directives(operation.directives.len())?;
    walk.selections(&operation.selection_set.node, Some(1))?;
    Ok(operation.ty)
}

/// A walk over the selections an operation would run, fragments expanded where they are used.
struct Walk<'d> {
    document: &'d ExecutableDocument,
    limits: &'d RequestLimits,
    /// Field selections and fragment uses seen so far.
    fields: usize,
    /// Fragments being expanded on the current path (a cycle is left for validation to report).
    path: HashSet<&'d Name>,
}

impl<'d> Walk<'d> {
    /// Walks `set` at `depth`; `None` inside introspection, which has a fixed shape of its own
    /// and is held to `MAX_FIELDS` but not `MAX_DEPTH` (the bracket nesting bounds it).
    fn selections(&mut self, set: &'d SelectionSet, depth: Option<usize>) -> Result<(), Refusal> {
        for selection in &set.items {
            self.fields += 1;
            if self.fields > self.limits.max_fields {
                return Err(Refusal::limit(format!(
                    "the operation selects more than {} fields (MAX_FIELDS)",
                    self.limits.max_fields
                )));
            }
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    self.directives(field.directives.len())?;
                    let introspection = matches!(field.name.node.as_str(), "__schema" | "__type");
                    if introspection && !self.limits.introspection {
                        return Err(Refusal {
                            code: "INTROSPECTION_DISABLED",
                            message: "introspection is disabled on this server".into(),
                        });
                    }
                    if field.selection_set.node.items.is_empty() {
                        continue;
                    }
                    let inner = match depth {
                        Some(_) if introspection => None,
                        Some(d) if d + 1 > self.limits.max_depth => {
                            return Err(Refusal::limit(format!(
                                "the query nests selections more than {} deep (MAX_DEPTH)",
                                self.limits.max_depth
                            )));
                        }
                        Some(d) => Some(d + 1),
                        None => None,
                    };
                    self.selections(&field.selection_set.node, inner)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(fragment.node.directives.len())?;
                    self.selections(&fragment.node.selection_set.node, depth)?;
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(spread.node.directives.len())?;
                    self.spread(&spread.node.fragment_name.node, |walk, set| {
                        walk.selections(set, depth)
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Walks the fragment `name` with `inner`, unless it is unknown or already being expanded.
    fn spread(
        &mut self,
        name: &'d Name,
        inner: impl FnOnce(&mut Self, &'d SelectionSet) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(());
        };
        if !self.path.insert(name) {
            return Ok(());
        }
        self.directives(fragment.node.directives.len())?;
        let result = inner(self, &fragment.node.selection_set.node);
        self.path.remove(name);
        result
    }

    /// Root fields, through inline fragments and fragment spreads at the root.
    fn count_roots(&mut self, set: &'d SelectionSet) -> Result<usize, Refusal> {
        let mut roots = 0usize;
        for selection in &set.items {
            roots += match &selection.node {
                Selection::Field(_) => 1,
                Selection::InlineFragment(fragment) => {
                    self.count_roots(&fragment.node.selection_set.node)?
                }
                Selection::FragmentSpread(spread) => {
                    let mut inner = 0;
                    self.spread(&spread.node.fragment_name.node, |walk, set| {
                        inner = walk.count_roots(set)?;
                        Ok(())
                    })?;
                    inner
                }
            };
            if roots > self.limits.max_root_fields {
                break;
            }
        }
        Ok(roots)
    }

    fn directives(&self, count: usize) -> Result<(), Refusal> {
        match count > self.limits.max_directives {
            true => Err(Refusal::limit(format!(
                "a selection carries {count} directives; at most {} are allowed (MAX_DIRECTIVES)",
                self.limits.max_directives
            ))),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: RequestLimits = RequestLimits {
        max_input_depth: 8,
        max_tokens: 1000,
        max_depth: 3,
        max_fields: 20,
        max_root_fields: 3,
        max_directives: 2,
        max_complexity: 1000,
        introspection: true,
    };

    fn check(query: &str) -> Result<OperationType, Refusal> {
        check_document(query, LIMITS.max_input_depth, LIMITS.max_tokens)?;
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let op = operation(&document, None)?;
        check_operation(&document, &op.node, &LIMITS)
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let nesting = |text: &str, max: usize| check_document(text, max, 1000);
        assert!(nesting("{ a(x: [[[1]]]) }", 5).is_ok());
        assert!(nesting("{ a(x: [[[[1]]]]) }", 5).is_err());
        assert!(nesting("{ a(x: \"[[[[[[[[\") # {{{{{{{{{\n }", 2).is_ok());
        assert!(nesting("{ a(x: \"\"\" {{{{{{ \\\"\"\" {{{{ \"\"\") }", 2).is_ok());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            check_document(&deep, 64, usize::MAX).unwrap_err().code,
            "LIMIT_EXCEEDED"
        );
    }

    #[test]
    fn tokens_are_counted_outside_comments() {
        // `{`, `a`, `(`, `x`, `:`, `"s t"`, `)`, `b`, `}`
        assert!(check_document("{ a(x: \"s t\") b } # c d e f", 8, 9).is_ok());
        assert!(check_document("{ a(x: \"s t\") b } # c d e f", 8, 8)
            .unwrap_err()
            .message
            .contains("MAX_TOKENS"));
        assert!(check_document("{ alpha_1 beta-2, gamma }", 8, 5).is_ok());
    }

    #[test]
    fn variables_are_held_to_the_same_nesting() {
        let mut value = serde_json::json!(1);
        for _ in 0..10 {
            value = serde_json::json!({"not": value});
        }
        let variables = Variables::from_json(serde_json::json!({ "where": value }));
        assert!(check_variables(&variables, 10).is_ok());
        assert!(check_variables(&variables, 9).is_err());
    }

    #[test]
    fn depth_fields_roots_and_directives_are_limited() {
        assert_eq!(check("{ a { b { c } } }"), Ok(OperationType::Query));
        assert!(check("{ a { b { c { d } } } }")
            .unwrap_err()
            .message
            .contains("MAX_DEPTH"));
        assert!(check("{ a b c d }")
            .unwrap_err()
            .message
            .contains("MAX_ROOT_FIELDS"));
        assert!(check("{ a @x @y @z }")
            .unwrap_err()
            .message
            .contains("MAX_DIRECTIVES"));
        // Fragments count every time they are used.
        let wide = "query { a { ...F ...F ...F } } fragment F on T { x y z w v u }";
        assert!(check(wide).unwrap_err().message.contains("MAX_FIELDS"));
        // Root fields behind a fragment still count.
        assert!(check("{ ...R } fragment R on Query { a b c d }")
            .unwrap_err()
            .message
            .contains("MAX_ROOT_FIELDS"));
    }

    #[test]
    fn introspection_is_not_held_to_the_depth_limit_and_cycles_end() {
        assert!(
            check("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }")
                .is_ok()
        );
        assert!(check("{ a { ...F } } fragment F on T { b { ...F } }").is_ok());
        let closed = RequestLimits {
            introspection: false,
            ..LIMITS
        };
        let document =
            async_graphql::parser::parse_query("{ a { __type(name: \"A\") { name } } }").unwrap();
        let op = operation(&document, None).unwrap();
        assert_eq!(
            check_operation(&document, &op.node, &closed)
                .unwrap_err()
                .code,
            "INTROSPECTION_DISABLED"
        );
    }

    #[test]
    fn the_operation_is_chosen_by_name() {
        let document =
            async_graphql::parser::parse_query("query A { a } mutation B { b }").unwrap();
        assert_eq!(
            operation(&document, Some("B")).unwrap().node.ty,
            OperationType::Mutation
        );
        assert_eq!(operation(&document, None).unwrap_err().code, "BAD_REQUEST");
        assert_eq!(
            operation(&document, Some("C")).unwrap_err().code,
            "BAD_REQUEST"
        );
    }

    #[test]
    fn parsed_documents_are_kept_by_their_text_within_bounds() {
        let documents = Documents::default();
        let text = "query($id: ID!) { post(id: $id) { title } }";
        assert!(documents.get(text).is_none());
        let parsed = async_graphql::parser::parse_query(text).unwrap();
        documents.keep(text, &parsed);
        let kept = documents.get(text).expect("kept");
        assert_eq!(format!("{kept:?}"), format!("{parsed:?}"));
        assert!(
            documents.get("{ posts { title } }").is_none(),
            "another text"
        );
        // Too long to keep.
        let long = format!("{{ {} }}", "title ".repeat(DOCUMENT_BYTES / 6 + 1));
        documents.keep(&long, &async_graphql::parser::parse_query(&long).unwrap());
        assert!(documents.get(&long).is_none());
        // At the bound the set starts over.
        for n in 0..DOCUMENTS_KEPT {
            let text = format!("{{ a{n} }}");
            documents.keep(&text, &async_graphql::parser::parse_query(&text).unwrap());
        }
        assert!(documents.get(text).is_none(), "started over");
        assert!(documents.kept().len() <= DOCUMENTS_KEPT);
    }
}
