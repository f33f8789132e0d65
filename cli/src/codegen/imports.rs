//! Imports of generated per-model modules follow from what the module uses.
//!
//! Templates import everything a model of any shape may need; [`prune`] then drops each imported
//! name that the rest of the file never mentions, so every shape compiles without unused-import
//! warnings (a user's `clippy -D warnings` refuses them) and no view has to predict its imports.
//!
//! A name counts as used when it appears as an identifier anywhere outside the `use` items
//! (attributes and macro bodies included); a module imported as `self` counts as used only where it
//! starts a path (`filter::Equatable`), since modules share their names with methods and locals
//! (`fn write`, `filter: Option<..>`). Traits used only through method calls are never pruned
//! correctly by this rule, so per-model templates name the traits they implement (`impl Where for`)
//! and import no trait just for its methods.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Item, UseTree};

/// Identifiers the items mention, and those that start a path (`x::`).
#[derive(Default)]
struct Used {
    names: BTreeSet<String>,
    path_heads: BTreeSet<String>,
}

impl Used {
    fn scan(&mut self, tokens: TokenStream) {
        let mut previous: Option<String> = None;
        let mut colons = 0;
        for token in tokens {
            match token {
                TokenTree::Ident(i) => {
                    previous = Some(i.to_string());
                    colons = 0;
                    self.names.insert(i.to_string());
                }
                TokenTree::Punct(p) if p.as_char() == ':' => {
                    colons += 1;
                    if colons == 2 {
                        if let Some(head) = previous.take() {
                            self.path_heads.insert(head);
                        }
                    }
                }
                TokenTree::Group(g) => {
                    previous = None;
                    self.scan(g.stream());
                }
                _ => {
                    previous = None;
                    colons = 0;
                }
            }
        }
    }
}

/// Removes the imported names `file` does not use, and `use` items left empty.
pub fn prune(file: &mut syn::File) {
    let mut used = Used::default();
    for item in file.items.iter().filter(|i| !matches!(i, Item::Use(_))) {
        used.scan(item.to_token_stream());
    }
    file.items.retain_mut(|item| match item {
        Item::Use(u) => keep(&mut u.tree, &used, None),
        _ => true,
    });
}

/// Whether anything of `tree` is still imported after pruning it; `parent` is the path segment
/// before it (what `self` stands for).
fn keep(tree: &mut UseTree, used: &Used, parent: Option<&syn::Ident>) -> bool {
    match tree {
        UseTree::Path(p) => {
            if !keep(&mut p.tree, used, Some(&p.ident)) {
                return false;
            }
            // `a::b::{self}` reads as `a::b`.
            if matches!(&*p.tree, UseTree::Group(g) if g.items.len() == 1 && matches!(&g.items[0], UseTree::Name(n) if n.ident == "self")) {
                *tree = UseTree::Name(syn::UseName { ident: p.ident.clone() });
            }
            true
        }
        UseTree::Name(n) if n.ident == "self" => parent.is_some_and(|m| used.path_heads.contains(&m.to_string())),
        UseTree::Name(n) => used.names.contains(&n.ident.to_string()),
        UseTree::Rename(r) => used.names.contains(&r.rename.to_string()),
        UseTree::Glob(_) => true,
        UseTree::Group(g) => {
            let items = std::mem::take(&mut g.items);
            g.items = items.into_iter().filter_map(|mut t| keep(&mut t, used, parent).then_some(t)).collect();
            let single = g.items.len() == 1 && !matches!(&g.items[0], UseTree::Name(n) if n.ident == "self");
            if single {
                *tree = g.items.pop().expect("one item");
            }
            !matches!(tree, UseTree::Group(g) if g.items.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    fn pruned(source: &str) -> String {
        let mut file = syn::parse_file(source).unwrap();
        super::prune(&mut file);
        prettyplease::unparse(&file)
    }

    #[test]
    fn unused_names_and_empty_imports_go() {
        let out = pruned("use a::{Used, Unused};\nuse b::Gone;\nuse c::{self, D};\nuse d::*;\nfn f(x: Used) -> c::T { x }\n");
        assert_eq!(out, "use a::Used;\nuse c;\nuse d::*;\nfn f(x: Used) -> c::T {\n    x\n}\n");
    }

    #[test]
    fn a_module_counts_only_where_it_starts_a_path() {
        let out = pruned("use m::{self, write};\nfn write(filter: i32) {}\nfn g() { write::go() }\n");
        assert_eq!(out, "use m::write;\nfn write(filter: i32) {}\nfn g() {\n    write::go()\n}\n");
        let out = pruned("use crate::runtime::filter::{self, Conds};\nfn f(filter: Conds) {}\n");
        assert_eq!(out, "use crate::runtime::filter::Conds;\nfn f(filter: Conds) {}\n");
    }

    #[test]
    fn names_in_attributes_and_macros_count() {
        let out = pruned("use a::{Enum, Object, Gone};\n#[derive(Enum)]\nenum E { A }\nm! { Object }\n");
        assert!(out.starts_with("use a::{Enum, Object};\n"), "{out}");
    }
}
