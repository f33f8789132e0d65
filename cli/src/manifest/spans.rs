//! Where each key and value of a manifest sits in its source text.
//!
//! serde_yaml reports locations for syntax errors only, so semantic diagnostics look their key
//! path up here. The index is built from yaml-rust2's marked event stream; JSON is valid YAML flow
//! syntax, so one index serves both formats. Duplicate keys, which both serde decoders silently
//! collapse, are recorded here so validation can report them.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::Span;

/// A key path from the document root: map keys, and sequence positions as decimal strings.
pub type KeyPath = Vec<String>;

/// Spans of every key and value in one document.
#[derive(Debug, Default)]
pub struct SpanIndex {
    keys: BTreeMap<KeyPath, Span>,
    values: BTreeMap<KeyPath, Span>,
    /// Keys that appear twice in one mapping: (path, span of the later occurrence, span of the first).
    pub duplicates: Vec<(KeyPath, Span, Span)>,
}

impl SpanIndex {
    /// Builds the index; returns an empty one when the text is not parseable (serde reports that).
    pub fn build(source: &str) -> SpanIndex {
        let mut builder = Builder { index: SpanIndex::default(), stack: Vec::new() };
        let mut parser = Parser::new_from_str(source);
        if parser.load(&mut builder, false).is_err() {
            return SpanIndex::default();
        }
        builder.index
    }

    /// The span of the key at `path` (its last element), or of the nearest ancestor that has one.
    pub fn key(&self, path: &[&str]) -> Option<Span> {
        self.lookup(&self.keys, path)
    }

    /// The span of the value at `path`, falling back to the key, then to ancestors.
    pub fn value(&self, path: &[&str]) -> Option<Span> {
        let owned: KeyPath = path.iter().map(|s| s.to_string()).collect();
        self.values.get(&owned).copied().or_else(|| self.key(path))
    }

    fn lookup(&self, map: &BTreeMap<KeyPath, Span>, path: &[&str]) -> Option<Span> {
        let mut owned: KeyPath = path.iter().map(|s| s.to_string()).collect();
        loop {
            if let Some(span) = map.get(&owned) {
                return Some(*span);
            }
            owned.pop()?;
        }
    }
}

/// One open collection while walking the event stream.
enum Frame {
    /// A mapping at `path`; `pending_key` is set between a key and its value.
    Map { path: KeyPath, pending_key: Option<String> },
    /// A sequence at `path`; `next` is the position of the next item.
    Seq { path: KeyPath, next: usize },
}

struct Builder {
    index: SpanIndex,
    stack: Vec<Frame>,
}

impl Builder {
    /// The path of the value about to start, or `None` if the next scalar is a mapping key.
    fn value_path(&mut self) -> Option<KeyPath> {
        match self.stack.last_mut() {
            None => Some(Vec::new()),
            Some(Frame::Map { pending_key: None, .. }) => None,
            Some(Frame::Map { path, pending_key }) => {
                let mut p = path.clone();
                p.push(pending_key.take().unwrap_or_default());
                Some(p)
            }
            Some(Frame::Seq { path, next }) => {
                let mut p = path.clone();
                p.push(next.to_string());
                *next += 1;
                Some(p)
            }
        }
    }
}

fn span_at(mark: Marker, text: &str, style: Option<TScalarStyle>) -> Span {
    let quotes = matches!(style, Some(TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted));
    let len = text.chars().count() + if quotes { 2 } else { 0 };
    Span { line: mark.line(), col: mark.col() + 1, len: len.max(1) }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, style, _, _) => match self.value_path() {
                Some(path) => {
                    self.index.values.insert(path, span_at(mark, &text, Some(style)));
                }
                None => {
                    let Some(Frame::Map { path, pending_key }) = self.stack.last_mut() else { return };
                    let mut key_path = path.clone();
                    key_path.push(text.clone());
                    let span = span_at(mark, &text, Some(style));
                    match self.index.keys.get(&key_path) {
                        Some(first) => self.index.duplicates.push((key_path, span, *first)),
                        None => {
                            self.index.keys.insert(key_path, span);
                        }
                    }
                    *pending_key = Some(text);
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                // A collection used as a mapping key has no useful path; index it under "?".
                let path = self.value_path().unwrap_or_else(|| vec!["?".into()]);
                self.index.values.entry(path.clone()).or_insert(span_at(mark, " ", None));
                self.stack.push(if is_map { Frame::Map { path, pending_key: None } } else { Frame::Seq { path, next: 0 } });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                self.value_path();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_keys_and_values_have_one_based_positions() {
        let idx = SpanIndex::build("version: 1\nmodels:\n  Post:\n    fields:\n      title: strng\n");
        assert_eq!(idx.key(&["models", "Post"]), Some(Span { line: 3, col: 3, len: 4 }));
        assert_eq!(idx.value(&["models", "Post", "fields", "title"]), Some(Span { line: 5, col: 14, len: 5 }));
    }

    #[test]
    fn json_is_indexed_too_and_duplicates_are_recorded() {
        let src = "{\n  \"models\": {\"A\": {}, \"A\": {}}\n}";
        let idx = SpanIndex::build(src);
        assert_eq!(idx.key(&["models"]), Some(Span { line: 2, col: 3, len: 8 }));
        assert_eq!(idx.duplicates.len(), 1);
        assert_eq!(idx.duplicates[0].0, vec!["models".to_string(), "A".to_string()]);
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_ancestor() {
        let idx = SpanIndex::build("models:\n  Post: {}\n");
        assert_eq!(idx.key(&["models", "Post", "fields"]), idx.key(&["models", "Post"]));
    }
}
