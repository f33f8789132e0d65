//! The GraphQL schema the server runs: the types of `schema.graphql` (the contract clients see,
//! read once at start-up), with resolvers that read the model tables ([`Model`]). One resolver
//! per kind of field serves every model, so the crate's code does not grow with its models.

use std::collections::HashMap;

use async_graphql::dynamic::{self as d, FieldFuture, FieldValue, ResolverContext, TypeRef};
use async_graphql::parser::types::{
    BaseType, ConstDirective, ExecutableDocument, InputValueDefinition, OperationDefinition,
    Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{InputType, Lookahead, Name, Positioned, Value, Variables, ID};

use crate::runtime::access::{self, Op};
use crate::runtime::auth::Identity;
use crate::runtime::check::{self, Problems};
use crate::runtime::context::Ctx;
use crate::runtime::error::{ApiError, ErrorCode};
use crate::runtime::filter::Scope;
use crate::runtime::guard::Refusal;
use crate::runtime::input;
use crate::runtime::model::{Model, RelationKind, Root, ValueType};
use crate::runtime::plan;
use crate::runtime::read::{self, AggregateRow, Edge, Page, PageArgs, PageInfo};
use crate::runtime::record::{output, to_one_selected, ModelKey, Record, Stored};
use crate::runtime::scalars;
use crate::runtime::select::{Key, Link, Select, Table};
use crate::runtime::sql::Sql;
use crate::runtime::write;

pub type ApiSchema = d::Schema;
pub type ApiSchemaBuilder = d::SchemaBuilder;

/// What resolves the fields of an object type.
#[derive(Clone, Copy)]
enum Role {
    Query,
    Mutation,
    Row(&'static Model),
    Connection,
    Edge,
    PageInfo,
    Aggregate,
    /// Sums and averages (`true`) or minimums and maximums of a model's measures.
    Measures(&'static Model, bool),
    Group,
    GroupKey(&'static Model),
    Bulk,
}

fn role(name: &str, models: &[&'static Model]) -> Option<Role> {
    match name {
        "Query" => return Some(Role::Query),
        "Mutation" => return Some(Role::Mutation),
        "PageInfo" => return Some(Role::PageInfo),
        _ => {}
    }
    models.iter().find_map(|m| {
        let rest = name.strip_prefix(m.name)?;
        match rest {
            "" => Some(Role::Row(m)),
            "Connection" => Some(Role::Connection),
            "Edge" => Some(Role::Edge),
            "Aggregate" => Some(Role::Aggregate),
            "AggregateNumbers" => Some(Role::Measures(m, true)),
            "AggregateBounds" => Some(Role::Measures(m, false)),
            "Group" => Some(Role::Group),
            "GroupKey" => Some(Role::GroupKey(m)),
            "BulkResult" => Some(Role::Bulk),
            _ => None,
        }
    })
}

/// A schema builder for `sdl` whose resolvers read `models`.
///
/// # Panics
/// If `sdl` is not the schema generated for these models (a `schema.graphql` edited by hand).
pub fn builder(sdl: &str, models: &'static [&'static Model]) -> ApiSchemaBuilder {
    let document = async_graphql::parser::parse_schema(sdl)
        .unwrap_or_else(|e| panic!("schema.graphql does not parse: {e}"));
    let roots = roots(models);
    // A role that may write nothing has no `Mutation` type.
    let has_mutation = document
        .definitions
        .iter()
        .any(|d| matches!(d, TypeSystemDefinition::Type(t) if t.node.name.node == "Mutation"));
    let mut builder = d::Schema::build("Query", has_mutation.then_some("Mutation"), None);
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = ty.node;
        let name = ty.name.node.to_string();
        let description = ty.description.map(|d| d.node);
        match ty.kind {
            TypeKind::Scalar => builder = builder.register(scalar(&name, description)),
            TypeKind::Enum(e) => {
                let mut out = d::Enum::new(&name);
                if let Some(text) = description {
                    out = out.description(text);
                }
                for value in e.values {
                    let value = value.node;
                    let mut item = d::EnumItem::new(value.value.node.as_str());
                    if let Some(text) = value.description {
                        item = item.description(text.node);
                    }
                    if let Some(reason) = deprecation(&value.directives) {
                        item = item.deprecation(reason.as_deref());
                    }
                    out = out.item(item);
                }
                builder = builder.register(out);
            }
            TypeKind::InputObject(i) => {
                let mut out = d::InputObject::new(&name);
                if let Some(text) = description {
                    out = out.description(text);
                }
                for field in i.fields {
                    out = out.field(input_value(field.node));
                }
                builder = builder.register(out);
            }
            TypeKind::Object(o) => {
                let role = role(&name, models).unwrap_or_else(|| {
                    panic!("schema.graphql has a type `{name}` no model serves")
                });
                let mut out = d::Object::new(&name);
                if let Some(text) = description {
                    out = out.description(text);
                }
                for field in o.fields {
                    let field = field.node;
                    let field_name = field.name.node.to_string();
                    let resolver = resolver(role, &field_name, &roots);
                    let mut f = d::Field::new(&field_name, type_ref(&field.ty.node), move |ctx| {
                        resolver(ctx)
                    });
                    if let Some(text) = field.description {
                        f = f.description(text.node);
                    }
                    if let Some(reason) = deprecation(&field.directives) {
                        f = f.deprecation(reason.as_deref());
                    }
                    for argument in field.arguments {
                        f = f.argument(input_value(argument.node));
                    }
                    out = out.field(f);
                }
                builder = builder.register(out);
            }
            _ => {}
        }
    }
    builder
}

/// What a selection set selects from, for the complexity score.
#[derive(Clone, Copy)]
enum Selects {
    Root,
    Row(&'static Model),
    Connection(&'static Model),
    Edge(&'static Model),
    Bulk(&'static Model),
    Other,
}

/// Refuses an operation whose complexity score exceeds `max`: each field counts 1 plus what it
/// selects, and a list field counts its page size (`limit`, `first` or `last`, else the default
/// page size) times what it selects instead.
pub fn check_complexity(
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    variables: &Variables,
    max: usize,
) -> Result<(), Refusal> {
    // Built once, not per request.
    static ROOTS: std::sync::LazyLock<HashMap<&'static str, (&'static Model, Root)>> =
        std::sync::LazyLock::new(|| roots(crate::models::MODELS));
    let score = Score {
        document,
        variables,
        roots: &ROOTS,
        path: Vec::new(),
    }
    .set(&operation.selection_set.node, Selects::Root);
    match score > max {
        true => Err(Refusal::limit(format!("the query is too complex: its score is {score}, at most {max} is allowed (MAX_COMPLEXITY); lists count their page size"))),
        false => Ok(()),
    }
}

struct Score<'d> {
    document: &'d ExecutableDocument,
    variables: &'d Variables,
    roots: &'d HashMap<&'static str, (&'static Model, Root)>,
    /// Fragments being expanded (a cycle is left for validation to report).
    path: Vec<&'d Name>,
}

impl<'d> Score<'d> {
    fn set(&mut self, set: &'d SelectionSet, on: Selects) -> usize {
        let mut total = 0usize;
        for selection in &set.items {
            let score = match &selection.node {
                Selection::Field(field) => self.field(&field.node, on),
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node, on)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match self.document.fragments.get(name) {
                        Some(fragment) if !self.path.contains(&name) => {
                            self.path.push(name);
                            let score = self.set(&fragment.node.selection_set.node, on);
                            self.path.pop();
                            score
                        }
                        _ => 0,
                    }
                }
            };
            total = total.saturating_add(score);
        }
        total
    }

    fn field(&mut self, field: &'d async_graphql::parser::types::Field, on: Selects) -> usize {
        let name = field.name.node.as_str();
        let page = |arg: &str| -> Option<i32> {
            let (_, value) = field
                .arguments
                .iter()
                .find(|(n, _)| n.node.as_str() == arg)?;
            let value = value
                .node
                .clone()
                .into_const_with(|v| self.variables.get(&v).cloned().ok_or(()))
                .ok()?;
            match value {
                Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            }
        };
        let first = || page("first").or_else(|| page("last"));
        // (what the field selects from, the page size when it is a list)
        let (inner, list): (Selects, Option<Option<i32>>) = match on {
            Selects::Root => match self.roots.get(name) {
                Some((m, Root::List)) => (Selects::Row(m), Some(page("limit"))),
                Some((m, Root::Connection)) => (Selects::Connection(m), Some(first())),
                Some((_, Root::GroupBy)) => (Selects::Other, Some(page("limit"))),
                Some((m, Root::CreateMany)) => (Selects::Row(m), None),
                Some((m, Root::UpdateMany | Root::DeleteMany)) => (Selects::Bulk(m), None),
                Some((_, Root::Aggregate)) => (Selects::Other, None),
                Some((m, _)) => (Selects::Row(m), None),
                None => (Selects::Other, None),
            },
            Selects::Row(m) => match m
                .relations
                .iter()
                .find(|r| r.name == name || r.connection == Some(name))
            {
                Some(r) if r.connection == Some(name) => {
                    (Selects::Connection(r.target), Some(first()))
                }
                Some(r) => match r.kind {
                    RelationKind::ToMany { .. } | RelationKind::ManyToMany { .. } => {
                        (Selects::Row(r.target), Some(page("limit")))
                    }
                    RelationKind::ToOne { .. } | RelationKind::Reverse { .. } => {
                        (Selects::Row(r.target), None)
                    }
                },
                None => (Selects::Other, None),
            },
            Selects::Connection(m) if name == "edges" => (Selects::Edge(m), None),
            Selects::Edge(m) if name == "node" => (Selects::Row(m), None),
            Selects::Bulk(m) if name == "rows" => (Selects::Row(m), None),
            _ => (Selects::Other, None),
        };
        let child = self.set(&field.selection_set.node, inner);
        match list {
            Some(limit) => crate::runtime::paging::list_complexity(limit, child),
            None => child.saturating_add(1),
        }
    }
}

/// The models' root fields of `Query` and `Mutation`, by name.
fn roots(models: &[&'static Model]) -> HashMap<&'static str, (&'static Model, Root)> {
    models
        .iter()
        .flat_map(|m| m.roots.iter().map(move |(name, root)| (*name, (*m, *root))))
        .collect()
}

/// The reason of a `@deprecated` directive, if there is one.
fn deprecation(directives: &[Positioned<ConstDirective>]) -> Option<Option<String>> {
    directives
        .iter()
        .find(|d| d.node.name.node == "deprecated")
        .map(|d| {
            d.node.get_argument("reason").and_then(|v| match &v.node {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
        })
}

fn type_ref(ty: &Type) -> TypeRef {
    let inner = match &ty.base {
        BaseType::Named(name) => TypeRef::Named(name.to_string().into()),
        BaseType::List(item) => TypeRef::List(Box::new(type_ref(item))),
    };
    if ty.nullable {
        inner
    } else {
        TypeRef::NonNull(Box::new(inner))
    }
}

fn input_value(def: InputValueDefinition) -> d::InputValue {
    let mut out = d::InputValue::new(def.name.node.as_str(), type_ref(&def.ty.node));
    if let Some(text) = def.description {
        out = out.description(text.node);
    }
    if let Some(default) = def.default_value {
        out = out.default_value(default.node);
    }
    out
}

/// A custom scalar, validated as the runtime's scalar types parse it.
fn scalar(name: &str, description: Option<String>) -> d::Scalar {
    let mut out = d::Scalar::new(name);
    if let Some(text) = description {
        out = out.description(text);
    }
    match name {
        "Date" => typed::<scalars::Date>(out),
        "Time" => typed::<scalars::Time>(out),
        "DateTime" => typed::<scalars::DateTime>(out),
        "BigInt" => typed::<scalars::BigInt>(out),
        // Strings here; their format is checked where they are written (`runtime::plan`), where
        // the refusal can say what was expected and name the field.
        "Email" => text::<scalars::Email>(out),
        "URL" => text::<scalars::Url>(out),
        "Slug" => text::<scalars::Slug>(out),
        "UUID" => typed::<uuid::Uuid>(out),
        "Decimal" => typed::<rust_decimal::Decimal>(out),
        "JSON" => typed::<async_graphql::Json<serde_json::Value>>(out),
        _ => out,
    }
}

/// `scalar` validated by `T`'s parser, with `T`'s specification link.
fn typed<T: InputType>(scalar: d::Scalar) -> d::Scalar {
    let mut registry = Registry::default();
    let name = T::create_type_info(&mut registry);
    // The name comes back qualified (`DateTime!`).
    let url = match registry.types.get(name.trim_end_matches('!')) {
        Some(MetaType::Scalar {
            specified_by_url, ..
        }) => specified_by_url.clone(),
        _ => None,
    };
    let scalar = scalar.validator(|value| T::parse(Some(value.clone())).is_ok());
    match url {
        Some(url) => scalar.specified_by_url(url),
        None => scalar,
    }
}

/// A text scalar with `T`'s specification link, validated as a string.
fn text<T: InputType>(scalar: d::Scalar) -> d::Scalar {
    typed::<T>(scalar).validator(|value| matches!(value, Value::String(_)))
}

type Resolver =
    std::sync::Arc<dyn for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync>;

fn resolver(
    role: Role,
    field: &str,
    roots: &HashMap<&'static str, (&'static Model, Root)>,
) -> Resolver {
    match role {
        Role::Query | Role::Mutation => match roots.get(field) {
            Some((model, root)) => root_resolver(model, *root),
            None => unavailable(field),
        },
        Role::Row(model) => row_field(model, field),
        Role::Connection => connection_field(field),
        Role::Edge => edge_field(field),
        Role::PageInfo => page_info_field(field),
        Role::Aggregate => aggregate_field(field),
        Role::Measures(model, numbers) => measure_field(model, numbers, field),
        Role::Group => group_field(field),
        Role::GroupKey(model) => group_key_field(model, field),
        Role::Bulk => bulk_field(field),
    }
}

/// A field this runtime does not serve yet: an error naming it.
fn unavailable(field: &str) -> Resolver {
    let message = format!("`{field}` is not available in this server");
    std::sync::Arc::new(move |_| {
        let message = message.clone();
        FieldFuture::new(async move {
            Err::<Option<FieldValue>, _>(ApiError::new(ErrorCode::Internal, message).into())
        })
    })
}

fn failed<'a>(e: impl Into<async_graphql::Error>) -> FieldFuture<'a> {
    let e = e.into();
    FieldFuture::new(async move { Err::<Option<FieldValue>, _>(e) })
}

fn value_future<'a>(v: Result<Value, ApiError>) -> FieldFuture<'a> {
    match v {
        Ok(Value::Null) => FieldFuture::from_value(None),
        Ok(v) => FieldFuture::from_value(Some(v)),
        Err(e) => failed(e),
    }
}

fn parent<'a, T: std::any::Any>(ctx: &ResolverContext<'a>) -> Result<&'a T, async_graphql::Error> {
    ctx.parent_value.try_downcast_ref::<T>()
}

fn arg_i32(ctx: &ResolverContext<'_>, name: &str) -> Result<Option<i32>, ApiError> {
    match ctx.args.get(name) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => v
            .i64()
            .ok()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("`{name}` must be a 32-bit integer"),
                )
                .on_field(name)
            }),
    }
}

fn arg_string(ctx: &ResolverContext<'_>, name: &str) -> Option<String> {
    ctx.args
        .get(name)
        .and_then(|v| v.string().ok().map(str::to_string))
}

/// The `id` argument: an `ID` is given as a string or an integer.
fn arg_id(ctx: &ResolverContext<'_>) -> String {
    match ctx.args.get("id").map(|v| v.as_value().clone()) {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn page_args(ctx: &ResolverContext<'_>) -> Result<PageArgs, ApiError> {
    Ok(PageArgs {
        first: arg_i32(ctx, "first")?,
        after: arg_string(ctx, "after"),
        last: arg_i32(ctx, "last")?,
        before: arg_string(ctx, "before"),
    })
}

/// Where the rows a read returns are selected in the field that asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// The field's own selection: a list, or one related row.
    Listed,
    /// `edges { node { … } }`: a connection.
    Paged,
    /// No rows, only what is computed over them: aggregates and group-by.
    Counted,
}

/// The table a read of `model` starts from, reading the columns `rows` (the selection of the
/// rows it returns) needs: the fields selected, the foreign keys of the to-one relations
/// selected, and the key (which relations and lookups go by).
fn table(model: &'static Model, rows: Option<&Lookahead<'_>>) -> Table {
    let columns = match rows {
        None => model.projection(),
        Some(rows) => model.projection_of(|f| {
            rows.field(f.name).exists()
                || model.relations.iter().any(|r| {
                    matches!(r.kind, RelationKind::ToOne { column, .. } if column == f.column)
                        && rows.field(r.name).exists()
                })
        }),
    };
    Table {
        name: model.table,
        key: model.key,
        search: model.search,
        default_order: model.default_order,
        columns,
    }
}

/// The read a list, connection or aggregate field's `where`, `orderBy` and `search` ask for,
/// within the rows the caller may read; `under`: the foreign key column through which the rows
/// are read as children of rows the caller read.
fn select(
    model: &'static Model,
    ctx: &ResolverContext<'_>,
    identity: &Identity,
    under: Option<&'static str>,
    rows: Rows,
) -> Result<Select, ApiError> {
    let selection = ctx.look_ahead();
    let table = match rows {
        Rows::Listed => table(model, Some(&selection)),
        Rows::Paged => table(model, Some(&selection.field("edges").field("node"))),
        Rows::Counted => table(model, None),
    };
    let filter = ctx
        .args
        .get("where")
        .map(|v| v.as_value().clone())
        .filter(|v| *v != Value::Null);
    let order = ctx.args.get("orderBy").map(|v| v.as_value().clone());
    let search = arg_string(ctx, "search");
    Select::build(table, search.as_deref(), |scope| {
        let asked = filter
            .as_ref()
            .map(|v| input::condition(model, v, scope, Some(identity)))
            .transpose()?;
        let visible = match under {
            Some(column) => access::read_under(identity, model, column, scope)?,
            None => access::rows(identity, model, Op::Read, scope)?,
        };
        let cond = access::both(asked, visible).unwrap_or_else(|| Sql::raw("TRUE"));
        Ok((cond, input::order_keys(model, order.as_ref(), scope)?))
    })
}

fn records<'a>(rows: Vec<Record>) -> Option<FieldValue<'a>> {
    Some(FieldValue::list(
        rows.into_iter().map(FieldValue::owned_any),
    ))
}

fn root_resolver(model: &'static Model, root: Root) -> Resolver {
    std::sync::Arc::new(move |ctx| {
        FieldFuture::new(async move {
            let cx = Ctx::of(ctx.ctx)?;
            let who = &cx.request.identity;
            let value = match root {
                Root::One => {
                    let id = arg_id(&ctx);
                    let Some(key) = model.key_kind.parse(&id) else {
                        return Err(ApiError::new(
                            ErrorCode::InvalidId,
                            format!("`{id}` is not a valid id"),
                        )
                        .on_field("id")
                        .into());
                    };
                    cx.request.stats.load_requested();
                    // Its selected to-one relations are read in the same statement.
                    let look = ctx.look_ahead();
                    let with = to_one_selected(model, |name| look.field(name).exists());
                    cx.batch
                        .load_one(ModelKey { model, key, with })
                        .await?
                        .map(FieldValue::owned_any)
                }
                Root::List => {
                    let select = select(model, &ctx, who, None, Rows::Listed)?;
                    records(
                        read::list::<Record>(
                            &cx,
                            select,
                            arg_i32(&ctx, "limit")?,
                            arg_i32(&ctx, "offset")?,
                        )
                        .await?,
                    )
                }
                Root::Connection => {
                    let select = select(model, &ctx, who, None, Rows::Paged)?;
                    Some(FieldValue::owned_any(
                        read::connection::<Record>(&cx, select, page_args(&ctx)?).await?,
                    ))
                }
                Root::Aggregate => {
                    let select = select(model, &ctx, who, None, Rows::Counted)?;
                    let terms =
                        read::aggregate_terms(model.measures, read::selected(&ctx.look_ahead()));
                    Some(FieldValue::owned_any(
                        read::aggregate(&cx, select, terms).await?,
                    ))
                }
                Root::GroupBy => {
                    let select = select(model, &ctx, who, None, Rows::Counted)?;
                    let by = group_columns(model, &ctx)?;
                    let having = match ctx
                        .args
                        .get("having")
                        .map(|v| v.as_value().clone())
                        .filter(|v| *v != Value::Null)
                    {
                        Some(v) => Some(input::having(model, &v)?),
                        None => None,
                    };
                    let columns = read::aggregate_columns(
                        model.measures,
                        read::selected(&ctx.look_ahead().field("aggregate")),
                    );
                    let groups = read::group_by(
                        &cx,
                        select,
                        &by,
                        having,
                        columns,
                        arg_i32(&ctx, "limit")?,
                        arg_i32(&ctx, "offset")?,
                    )
                    .await?;
                    Some(FieldValue::list(
                        groups.into_iter().map(FieldValue::owned_any),
                    ))
                }
                Root::Create => {
                    let input = preset(who, model, arg(&ctx, "input"))?;
                    let (guard, seen) = (
                        access::check_t0(who, model, Op::Create)?,
                        access::seen(who, model)?,
                    );
                    let row = write::create(&cx, |p| {
                        plan::create(model, &input, "input", p, None)
                            .guarded(guard)
                            .seeing(seen)
                    })
                    .await?;
                    Some(FieldValue::owned_any(row))
                }
                Root::CreateMany => {
                    let inputs = match arg(&ctx, "inputs") {
                        Value::List(items) => items,
                        Value::Null => Vec::new(),
                        one => vec![one],
                    };
                    let inputs = inputs
                        .into_iter()
                        .map(|input| preset(who, model, input))
                        .collect::<Result<Vec<_>, _>>()?;
                    let (guard, seen) = (
                        access::check_t0(who, model, Op::Create)?,
                        access::seen(who, model)?,
                    );
                    let plans = |p: &mut Problems| {
                        inputs
                            .iter()
                            .enumerate()
                            .map(|(i, input)| {
                                plan::create(model, input, &check::item("inputs", i), p, None)
                                    .guarded(guard.clone())
                                    .seeing(seen.clone())
                            })
                            .collect()
                    };
                    records(write::create_all(&cx, inputs.len(), plans).await?)
                }
                Root::Update => {
                    let input = arg(&ctx, "input");
                    let id = ID(arg_id(&ctx));
                    let (only, guard) = (
                        access::rows_t0(who, model, Op::Update)?,
                        access::check_t0(who, model, Op::Update)?,
                    );
                    let seen = access::seen(who, model)?;
                    let row = write::update(&cx, model.target(), &id, |p| {
                        plan::update(model, &input, "input", p)
                            .guarded(only, guard)
                            .seeing(seen)
                    })
                    .await?;
                    Some(FieldValue::owned_any(row))
                }
                Root::UpdateMany => {
                    let set = arg(&ctx, "set");
                    let (guard, seen) = (
                        access::check_t0(who, model, Op::Update)?,
                        access::seen(who, model)?,
                    );
                    let rows = write::update_all(
                        &cx,
                        model.target(),
                        matching(model, &ctx, who, Op::Update)?,
                        |p| {
                            plan::update(model, &set, "set", p)
                                .guarded(None, guard)
                                .seeing(seen)
                        },
                    )
                    .await?;
                    Some(FieldValue::owned_any(Bulk(rows)))
                }
                Root::Delete => {
                    let id = ID(arg_id(&ctx));
                    write::remove::<Record>(
                        &cx,
                        model.target(),
                        &id,
                        access::rows_t0(who, model, Op::Delete)?,
                    )
                    .await?
                    .map(FieldValue::owned_any)
                }
                Root::DeleteMany => Some(FieldValue::owned_any(Bulk(
                    write::remove_all::<Record>(
                        &cx,
                        model.target(),
                        matching(model, &ctx, who, Op::Delete)?,
                    )
                    .await?,
                ))),
                Root::Upsert => {
                    let input = preset(who, model, arg(&ctx, "input"))?;
                    let (guard, seen) = (
                        access::check_t0(who, model, Op::Create)?,
                        access::seen(who, model)?,
                    );
                    let existing = write::Existing {
                        read: access::rows_t0(who, model, Op::Read)?,
                        update: access::rows_t0(who, model, Op::Update)?,
                        check: access::check_t0(who, model, Op::Update)?,
                    };
                    let on_conflict = arg(&ctx, "onConflict");
                    let conflict = field_columns(
                        model,
                        on_conflict_part(&on_conflict, "fields"),
                        "onConflict.fields",
                    )?;
                    let update = match on_conflict_part(&on_conflict, "update") {
                        Value::Null => None,
                        names => Some(field_columns(model, names, "onConflict.update")?),
                    };
                    Some(FieldValue::owned_any(
                        write::upsert(
                            &cx,
                            |p| {
                                plan::create(model, &input, "input", p, None)
                                    .guarded(guard)
                                    .seeing(seen)
                                    .meeting(existing)
                            },
                            conflict,
                            update,
                        )
                        .await?,
                    ))
                }
            };
            Ok(value)
        })
    })
}

/// An argument's value (null when it was left out).
fn arg(ctx: &ResolverContext<'_>, name: &str) -> Value {
    ctx.args
        .get(name)
        .map_or(Value::Null, |v| v.as_value().clone())
}

fn on_conflict_part(on_conflict: &Value, name: &str) -> Value {
    match on_conflict {
        Value::Object(fields) => fields.get(name).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The rows a bulk mutation's `where` matches among those the caller may `op`, as a condition
/// over `t0`.
fn matching(
    model: &'static Model,
    ctx: &ResolverContext<'_>,
    who: &Identity,
    op: Op,
) -> Result<Sql, ApiError> {
    let counter = std::cell::Cell::new(0);
    let scope = Scope::root(&counter);
    let asked = match arg(ctx, "where") {
        Value::Null => None,
        filter => Some(input::condition(model, &filter, &scope, Some(who))?),
    };
    Ok(access::both(asked, access::rows(who, model, op, &scope)?)
        .unwrap_or_else(|| Sql::raw("TRUE")))
}

/// A create input with the fields the caller's role presets from its claims.
fn preset(who: &Identity, model: &'static Model, input: Value) -> Result<Value, ApiError> {
    let presets = access::presets(who, model)?;
    if presets.is_empty() {
        return Ok(input);
    }
    let mut fields = match input {
        Value::Object(fields) => fields,
        _ => Default::default(),
    };
    for (field, value) in presets {
        fields.insert(Name::new(field), value);
    }
    Ok(Value::Object(fields))
}

/// The rows a bulk mutation wrote.
struct Bulk(Vec<Record>);

fn bulk_field(field: &str) -> Resolver {
    match field {
        "count" => std::sync::Arc::new(|ctx| match parent::<Bulk>(&ctx) {
            Ok(bulk) => FieldFuture::from_value(Some(Value::from(
                i32::try_from(bulk.0.len()).unwrap_or(i32::MAX),
            ))),
            Err(e) => failed(e),
        }),
        "rows" => std::sync::Arc::new(|ctx| match parent::<Bulk>(&ctx) {
            Ok(bulk) => FieldFuture::Value(Some(FieldValue::list(
                bulk.0.iter().map(|r| FieldValue::borrowed_any(r)),
            ))),
            Err(e) => failed(e),
        }),
        other => unavailable(other),
    }
}

fn row_field(model: &'static Model, field: &str) -> Resolver {
    if let Some((index, f)) = model.field(field) {
        let ty = f.value;
        return std::sync::Arc::new(move |ctx| match parent::<Record>(&ctx) {
            Ok(record) => value_future(output(record.get(index), ty)),
            Err(e) => failed(e),
        });
    }
    let connection = model.relations.iter().find(|r| r.connection == Some(field));
    let Some(relation) = model.relation(field).or(connection) else {
        return unavailable(field);
    };
    let target = relation.target;
    let key_index = model.key_index();
    let relation_index = model
        .relations
        .iter()
        .position(|r| std::ptr::eq(r, relation))
        .unwrap_or(usize::MAX);
    let paged = connection.is_some();
    match relation.kind {
        RelationKind::ToOne { column, nullable } => {
            let fk = model
                .fields
                .iter()
                .position(|f| f.column == column)
                .unwrap_or(0);
            std::sync::Arc::new(move |ctx| {
                FieldFuture::new(async move {
                    let record = parent::<Record>(&ctx)?;
                    let Some(key) = Key::stored(record.get(fk), target.key_kind) else {
                        return Ok(None);
                    };
                    let row = match record.joined(relation_index) {
                        // Read with its parent.
                        Some(row) => row.cloned(),
                        None => {
                            let cx = Ctx::of(ctx.ctx)?;
                            cx.request.stats.load_requested();
                            cx.batch.load_one(ModelKey::new(target, key)).await?
                        }
                    };
                    match row {
                        Some(row) => Ok(Some(FieldValue::owned_any(row))),
                        None if nullable => Ok(None),
                        None => Err(ApiError::not_found(target.name).into()),
                    }
                })
            })
        }
        kind => {
            let link = match kind {
                RelationKind::ManyToMany {
                    join_table,
                    here,
                    there,
                    scope,
                } => Link::Join {
                    table: join_table,
                    parent: here,
                    child: there,
                    scope,
                },
                RelationKind::ToMany { column }
                | RelationKind::Reverse { column }
                | RelationKind::ToOne { column, .. } => Link::Column(column),
            };
            let single = matches!(kind, RelationKind::Reverse { .. });
            let under = match kind {
                RelationKind::ToMany { column } | RelationKind::Reverse { column } => Some(column),
                _ => None,
            };
            std::sync::Arc::new(move |ctx| {
                FieldFuture::new(async move {
                    let record = parent::<Record>(&ctx)?;
                    let Some(parent_key) = Key::stored(record.get(key_index), model.key_kind)
                    else {
                        return Ok(None);
                    };
                    let cx = Ctx::of(ctx.ctx)?;
                    let field_id = read::field_id(ctx.ctx);
                    let rows = if paged { Rows::Paged } else { Rows::Listed };
                    let build = || select(target, &ctx, &cx.request.identity, under, rows);
                    if single {
                        let row =
                            read::related_one::<Record>(&cx, field_id, build, link, parent_key)
                                .await?;
                        Ok(row.map(FieldValue::owned_any))
                    } else if paged {
                        let page = read::related_connection::<Record>(
                            &cx,
                            field_id,
                            build,
                            link,
                            parent_key,
                            page_args(&ctx)?,
                        )
                        .await?;
                        Ok(Some(FieldValue::owned_any(page)))
                    } else {
                        let (limit, offset) = (arg_i32(&ctx, "limit")?, arg_i32(&ctx, "offset")?);
                        Ok(records(
                            read::related::<Record>(
                                &cx, field_id, build, link, parent_key, limit, offset,
                            )
                            .await?,
                        ))
                    }
                })
            })
        }
    }
}

fn connection_field(field: &str) -> Resolver {
    match field {
        "edges" => std::sync::Arc::new(|ctx| match parent::<Page<Record>>(&ctx) {
            Ok(page) => FieldFuture::Value(Some(FieldValue::list(
                page.edges.iter().map(|e| FieldValue::borrowed_any(e)),
            ))),
            Err(e) => failed(e),
        }),
        "pageInfo" => std::sync::Arc::new(|ctx| match parent::<Page<Record>>(&ctx) {
            Ok(page) => FieldFuture::Value(Some(FieldValue::borrowed_any(&page.page_info))),
            Err(e) => failed(e),
        }),
        "totalCount" => std::sync::Arc::new(|ctx| {
            FieldFuture::new(async move {
                let page = parent::<Page<Record>>(&ctx)?;
                let cx = Ctx::of(ctx.ctx)?;
                Ok(Some(FieldValue::value(page.total_count(&cx).await?)))
            })
        }),
        other => unavailable(other),
    }
}

fn edge_field(field: &str) -> Resolver {
    match field {
        "cursor" => std::sync::Arc::new(|ctx| match parent::<Edge<Record>>(&ctx) {
            Ok(edge) => FieldFuture::from_value(Some(Value::String(edge.cursor.clone()))),
            Err(e) => failed(e),
        }),
        "node" => std::sync::Arc::new(|ctx| match parent::<Edge<Record>>(&ctx) {
            Ok(edge) => FieldFuture::Value(Some(FieldValue::borrowed_any(&edge.node))),
            Err(e) => failed(e),
        }),
        other => unavailable(other),
    }
}

fn page_info_field(field: &str) -> Resolver {
    let pick: fn(&PageInfo) -> Value = match field {
        "hasNextPage" => |p| Value::Boolean(p.has_next_page),
        "hasPreviousPage" => |p| Value::Boolean(p.has_previous_page),
        "startCursor" => |p| p.start_cursor.clone().map_or(Value::Null, Value::String),
        "endCursor" => |p| p.end_cursor.clone().map_or(Value::Null, Value::String),
        other => return unavailable(other),
    };
    std::sync::Arc::new(move |ctx| match parent::<PageInfo>(&ctx) {
        Ok(info) => value_future(Ok(pick(info))),
        Err(e) => failed(e),
    })
}

/// The columns a `by:` argument names (`AUTHOR_ID` is the field `authorId`).
fn group_columns(
    model: &'static Model,
    ctx: &ResolverContext<'_>,
) -> Result<Vec<&'static str>, ApiError> {
    field_columns(model, arg(ctx, "by"), "by")
}

/// The columns a list of `<Model>Field` values names, given as the argument `argument`.
fn field_columns(
    model: &'static Model,
    names: Value,
    argument: &str,
) -> Result<Vec<&'static str>, ApiError> {
    // Enum values arrive as names, or as strings from inside input objects.
    let name = |v: Value| match v {
        Value::Enum(n) => Some(n.to_string()),
        Value::String(s) => Some(s),
        _ => None,
    };
    let names: Vec<String> = match names {
        Value::List(items) => items.into_iter().filter_map(name).collect(),
        Value::Null => Vec::new(),
        one => name(one).into_iter().collect(),
    };
    names
        .iter()
        .map(|name| {
            model
                .fields
                .iter()
                .find(|f| screaming(f.name) == *name)
                .map(|f| f.column)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("`{name}` is not a field of `{}`", model.name),
                    )
                    .on_field(argument)
                })
        })
        .collect()
}

/// `authorId` as `AUTHOR_ID`.
fn screaming(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// A part of an aggregate: `sum`, `avg`, `min` or `max` of the row's measures.
struct Part(AggregateRow, &'static str);

/// A group's key values.
struct GroupKey(AggregateRow);

/// An aggregate value as stored, for [`output`].
fn stored(value: Option<&serde_json::Value>) -> Stored {
    match value {
        Some(serde_json::Value::Number(n)) => n.as_i64().map_or_else(
            || Stored::Float(n.as_f64().unwrap_or(f64::NAN)),
            Stored::Int,
        ),
        Some(serde_json::Value::String(s)) => Stored::Text(s.clone()),
        Some(serde_json::Value::Bool(b)) => Stored::Int(i64::from(*b)),
        _ => Stored::Null,
    }
}

fn aggregate_field(field: &str) -> Resolver {
    let part: &'static str = match field {
        "count" => {
            return std::sync::Arc::new(|ctx| match parent::<AggregateRow>(&ctx) {
                Ok(row) => FieldFuture::from_value(Some(Value::Number(row.count().into()))),
                Err(e) => failed(e),
            })
        }
        "sum" => "sum",
        "avg" => "avg",
        "min" => "min",
        "max" => "max",
        other => return unavailable(other),
    };
    std::sync::Arc::new(move |ctx| match parent::<AggregateRow>(&ctx) {
        Ok(row) => FieldFuture::Value(Some(FieldValue::owned_any(Part(row.clone(), part)))),
        Err(e) => failed(e),
    })
}

fn measure_field(model: &'static Model, numbers: bool, field: &str) -> Resolver {
    let Some((_, f)) = model.field(field) else {
        return unavailable(field);
    };
    let column = f.column;
    // Sums and averages are floats (as the schema declares them); bounds keep the field's type,
    // and a decimal bound reads as computed (`9.5`), not padded to the column's scale.
    let ty = if numbers { ValueType::Float } else { f.value };
    std::sync::Arc::new(move |ctx| match parent::<Part>(&ctx) {
        Ok(Part(row, part)) => {
            let value = stored(row.0.get(&format!("{part}.{column}")));
            match (ty, &value) {
                (ValueType::Decimal(_), Stored::Float(f)) => {
                    value_future(Ok(rust_decimal::Decimal::try_from(*f)
                        .map_or(Value::Null, |d| InputType::to_value(&d.normalize()))))
                }
                _ => value_future(output(&value, ty)),
            }
        }
        Err(e) => failed(e),
    })
}

fn group_field(field: &str) -> Resolver {
    match field {
        "key" => std::sync::Arc::new(|ctx| match parent::<AggregateRow>(&ctx) {
            Ok(row) => FieldFuture::Value(Some(FieldValue::owned_any(GroupKey(row.clone())))),
            Err(e) => failed(e),
        }),
        "aggregate" => std::sync::Arc::new(|ctx| match parent::<AggregateRow>(&ctx) {
            Ok(row) => FieldFuture::Value(Some(FieldValue::borrowed_any(row))),
            Err(e) => failed(e),
        }),
        other => unavailable(other),
    }
}

fn group_key_field(model: &'static Model, field: &str) -> Resolver {
    let Some((_, f)) = model.field(field) else {
        return unavailable(field);
    };
    let (column, ty) = (f.column, f.value);
    std::sync::Arc::new(move |ctx| match parent::<GroupKey>(&ctx) {
        Ok(GroupKey(row)) => value_future(output(&stored(row.0.get(&format!("key.{column}"))), ty)),
        Err(e) => failed(e),
    })
}
