//! The HTTP server: `POST /graphql`, `GET /graphql` (queries only), GraphiQL at `/` (development
//! mode), `GET /healthz`, and `GET /metrics` (Prometheus text format).
//!
//! It speaks GraphQL over HTTP: requests are JSON (`Content-Type: application/json`; anything
//! else is refused with 415, so a web page on another site cannot make a browser send one without
//! a CORS preflight, which only `CORS_ALLOWED_ORIGINS` pass), answers are
//! `application/graphql-response+json` when the client accepts it and `application/json`
//! otherwise. Every refusal, down to a wrong method or an oversized body, is a GraphQL error with
//! an `extensions.code`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::futures_util::future::BoxFuture;
use async_graphql::futures_util::stream::{FuturesUnordered, StreamExt};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, Request, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::graphql::Schemas;
use crate::runtime::auth::{Authenticator, Refused};
use crate::runtime::batch::Batcher;
use crate::runtime::budget::Budget;
use crate::runtime::cache::{self, Lookup, ResponseCache};
use crate::runtime::config::Config;
use crate::runtime::context::{Limits, QueryCache, RequestContext};
use crate::runtime::db::{self, Db};
use crate::runtime::guard::{self, Refusal, RequestLimits};
use crate::runtime::metrics::{RequestStats, METRICS};
use crate::runtime::secret;
use crate::settings;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The schema of each role (or the one schema, without roles).
    pub schemas: Arc<Schemas>,
    pub db: Db,
    pub limits: Limits,
    pub request_limits: RequestLimits,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub db_tasks_per_request: usize,
    /// One permit per request executed at once (`MAX_CONCURRENT_REQUESTS`).
    pub executing: Arc<Semaphore>,
    /// Serve GraphiQL at `/` (development mode only).
    pub graphiql: bool,
    /// Origins allowed to call the API from a browser.
    pub cors_allowed_origins: Arc<[String]>,
    /// Add `extensions.sqlStatements` (statements this request ran) to every response.
    pub report_statements: bool,
    /// Verifies the tokens callers present.
    pub authenticator: Arc<Authenticator>,
    /// Answers served again while the database is unchanged (`RESPONSE_CACHE_BYTES`).
    pub cache: Option<Arc<ResponseCache>>,
    /// Documents parsed before, by their text.
    pub documents: Arc<guard::Documents>,
}

impl AppState {
    /// The state for `config` over an opened database, with `authenticator` verifying tokens.
    pub fn new(config: &Config, db: Db, authenticator: Authenticator) -> AppState {
        AppState {
            schemas: Arc::new(Schemas::build(config)),
            db,
            limits: config.limits(),
            request_limits: config.request_limits(),
            max_body_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            db_tasks_per_request: usize::try_from(config.db_tasks_per_request).unwrap_or(1),
            executing: Arc::new(Semaphore::new(config.concurrent_requests())),
            graphiql: !config.production,
            cors_allowed_origins: config
                .cors_allowed_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .collect(),
            report_statements: config.report_sql_statements,
            authenticator: Arc::new(authenticator),
            cache: None,
            documents: Arc::default(),
        }
    }
}

/// The application's routes, with the user's additions from `hooks::extend_router`.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql).post(graphql).options(preflight))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .with_state(state);
    crate::hooks::extend_router(routes)
}

/// Opens the database, applies migrations and serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if settings::POSTGRES && config.database_url.is_empty() {
        return Err("DATABASE_URL is not set: this API's tables live in PostgreSQL (`database.engine: postgres` in its manifest); \
                    set it to postgres://user:password@host:port/database"
            .into());
    }
    // Opening connects, migrates and may wait on the network: blocking work, off the async threads.
    let (url, storage) = (config.database_url.clone(), config.storage());
    let db = tokio::task::spawn_blocking(move || Db::open(&url, storage)).await??;
    match (&config.cursor_secret, db::dialect_of(&config.database_url)) {
        (Some(secret), _) => secret::init(Some(secret), None)?,
        // Every server on one PostgreSQL database signs cursors with the key the database keeps,
        // so a cursor from one is good on all.
        (None, crate::runtime::sql::Dialect::Postgres) => {
            let db = db.clone();
            let shared = tokio::task::spawn_blocking(move || {
                db.with_conn(crate::runtime::keys::shared_secret)
            })
            .await??;
            secret::init(Some(&shared?), None)?;
        }
        (None, crate::runtime::sql::Dialect::Sqlite) => {
            let key_file = (!db::in_memory(&config.database_url)).then(|| {
                std::path::PathBuf::from(format!("{}.key", db::file_path(&config.database_url)))
            });
            secret::init(None, key_file.as_deref())?;
        }
    }
    let mut state = AppState::new(&config, db, config.authenticator()?);
    state.cache = config.response_cache(&state.db).await?.map(Arc::new);
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let connections = Connections {
        max: usize::try_from(config.max_connections).unwrap_or(1),
        header_timeout: Duration::from_millis(config.header_timeout_ms),
        grace: Duration::from_millis(config.shutdown_grace_ms),
    };
    run(listener, router(state), connections, shutdown_signal()).await;
    Ok(())
}

/// How connections are accepted and closed.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// Connections served at once.
    pub max: usize,
    /// Longest wait for a request's headers (on a new or an idle connection).
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight finish
/// for up to `connections.grace`.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    connections: Connections,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(connections.max));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(connections.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for connections to close.
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let everyone = u32::try_from(connections.max).unwrap_or(u32::MAX);
    if tokio::time::timeout(connections.grace, slots.acquire_many(everyone))
        .await
        .is_err()
    {
        eprintln!(
            "shutdown: requests still running after {:?} were dropped",
            connections.grace
        );
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// How an answer is encoded, from the request's `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphqlResponse,
    /// `application/json`: every well-formed request gets 200.
    Json,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        })
    }

    /// The status of an answer to a request refused before it ran (parse, validation and limit
    /// failures): 400 where the media type allows it.
    fn request_error(self) -> StatusCode {
        match self {
            Media::GraphqlResponse => StatusCode::BAD_REQUEST,
            Media::Json => StatusCode::OK,
        }
    }
}

/// The media type to answer in, or `None` if the client accepts neither.
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let mut fallback = None;
    for range in accept.split(',') {
        let mime = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/graphql-response+json" => return Some(Media::GraphqlResponse),
            "application/json" | "application/*" | "*/*" => fallback = Some(Media::Json),
            _ => {}
        }
    }
    fallback
}

/// A JSON answer.
fn answer(media: Media, status: StatusCode, body: &serde_json::Value) -> Response {
    with_media((status, body.to_string()).into_response(), media)
}

/// `response` labelled with the negotiated media type.
fn with_media(mut response: Response, media: Media) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// A GraphQL error answer without `data`.
fn refuse(media: Media, status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        media,
        status,
        &serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }),
    )
}

async fn graphql(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return refuse(Media::Json, StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "answers are `application/graphql-response+json` or `application/json`; accept one of them");
    };
    let started = std::time::Instant::now();
    let stats = Arc::new(RequestStats::new(Budget::new(
        state.request_timeout,
        state.db_tasks_per_request,
    )));
    // The client hanging up drops this future: stop the request's database work with it.
    let _cancel = CancelOnDrop(stats.clone());
    // Waiting for a turn counts toward the request's time limit.
    let work = async {
        let _turn = state.executing.acquire().await;
        handle(&state, media, method, uri, headers, body, stats.clone()).await
    };
    match tokio::time::timeout(state.request_timeout, work).await {
        Ok(response) => response,
        Err(_) => {
            stats.budget.cancel();
            METRICS.request(started.elapsed(), true);
            refuse(
                media,
                StatusCode::OK,
                "TIMEOUT",
                "the request took longer than its time limit and was stopped",
            )
        }
    }
}

/// Cancels the request's budget when dropped.
struct CancelOnDrop(Arc<RequestStats>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.budget.cancel();
    }
}

async fn handle(
    state: &AppState,
    media: Media,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    stats: Arc<RequestStats>,
) -> Response {
    // Refused before its body is read, a request leaves that body on the connection, which then
    // cannot carry another request: the client is told to close it, rather than finding it closed
    // when it sends the next one.
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|length| length != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    let unread = |mut response: Response| {
        if has_body {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let api_key = headers
        .get("x-api-key")
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_string());
    let identified = match (authorization, api_key) {
        (Some(_), Some(_)) => Err(Refused(
            "send one credential: `Authorization` or `X-Api-Key`, not both".into(),
        )),
        (None, Some(key)) => match state
            .db
            .run(&stats, move |conn| {
                Ok(crate::runtime::keys::identify(conn, &key))
            })
            .await
        {
            Ok(identified) => identified,
            Err(e) => {
                return unread(refuse(
                    media,
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.code.as_str(),
                    &e.message,
                ))
            }
        },
        (authorization, None) => state.authenticator.identify_current(authorization).await,
    };
    let identity = match identified {
        Ok(identity) => identity,
        Err(Refused(why)) => {
            let mut response = refuse(media, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &why);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            return unread(response);
        }
    };
    let Some(schema) = state.schemas.for_role(identity.role()) else {
        // Without a declared anonymous role, the API is for callers with credentials only.
        let (status, code, why) = match identity {
            crate::runtime::auth::Identity::Anonymous => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "this API needs credentials: send `Authorization: Bearer <token>`".to_string(),
            ),
            _ => (
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                format!(
                    "the role `{}` is not a role of this API",
                    identity.role().chars().take(100).collect::<String>()
                ),
            ),
        };
        let mut response = refuse(media, status, code, &why);
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return unread(response);
    };
    let request = match read_request(state, media, &method, &uri, &headers, body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    // Bounded before parsing, so no request can make the parser recurse too deep.
    let refused =
        |refusal: Refusal| refuse(media, media.request_error(), refusal.code, &refusal.message);
    let limits = &state.request_limits;
    // A document parsed before passed these checks of its text then.
    let known = state.documents.get(&request.query);
    let checked = match known {
        Some(_) => Ok(()),
        None => guard::check_document(&request.query, limits.max_input_depth, limits.max_tokens),
    };
    if let Err(refusal) =
        checked.and_then(|()| guard::check_variables(&request.variables, limits.max_input_depth))
    {
        return refused(refusal);
    }
    let mut request = request;
    let parsed = match known {
        Some(document) => Ok(document),
        None => async_graphql::parser::parse_query(&request.query).inspect(|document| {
            state.documents.keep(&request.query, document);
        }),
    };
    let document = match parsed {
        Ok(document) => document,
        Err(e) => {
            let positions: Vec<serde_json::Value> = e
                .positions()
                .map(|p| serde_json::json!({"line": p.line, "column": p.column}))
                .collect();
            let error = serde_json::json!({ "message": syntax_error(&e), "locations": positions, "extensions": { "code": "GRAPHQL_PARSE_FAILED" } });
            return answer(
                media,
                media.request_error(),
                &serde_json::json!({ "errors": [error] }),
            );
        }
    };
    let operation = match guard::operation(&document, request.operation_name.as_deref()) {
        Ok(operation) => operation,
        Err(refusal) => return refused(refusal),
    };
    let kind = match guard::check_operation(&document, &operation.node, limits) {
        Ok(kind) => kind,
        Err(refusal) => return refused(refusal),
    };
    if let Err(refusal) = crate::runtime::api::check_complexity(
        &document,
        &operation.node,
        &request.variables,
        limits.max_complexity,
    ) {
        return refused(refusal);
    }
    // GET requests may be cached and prefetched by intermediaries, so they must not change data.
    if method == Method::GET && kind != OperationType::Query {
        let mut response = refuse(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let started = std::time::Instant::now();
    // A query asked before, by the same caller, of an unchanged database: its answer again.
    let mut cacheable = None;
    if let (Some(cache), OperationType::Query) = (&state.cache, kind) {
        let key = cache_key(&identity, &request);
        match cache.lookup(&key).await {
            Some(Lookup::Hit(answer)) => {
                METRICS.cache_hit();
                METRICS.request(started.elapsed(), false);
                let body = if state.report_statements {
                    Bytes::from(cache::with_no_statements(&answer))
                } else {
                    answer
                };
                return with_media((StatusCode::OK, body).into_response(), media);
            }
            Some(Lookup::Miss(version)) => cacheable = Some((cache, key, version)),
            None => {}
        }
    }
    request.set_parsed_query(document);

    let context = RequestContext {
        identity: identity.clone(),
        limits: state.limits,
        stats: stats.clone(),
        queries: QueryCache::default(),
    };
    // One loader per request: batches never mix requests, and nothing is cached across them.
    // Its fetches run inside this request's task and wait until the executor stops adding keys,
    // so all keys of one relation level land in one batch however slowly the resolvers run (the
    // loader's default, a 1 ms timer on another thread, splits a level when polling is slow).
    let (spawn, fetches) = tokio::sync::mpsc::unbounded_channel::<BoxFuture<'static, ()>>();
    let settling = stats.clone();
    let loader = DataLoader::new(
        Batcher::new(state.db.clone(), stats.clone(), identity),
        move |fetch: BoxFuture<'static, ()>| {
            let stats = settling.clone();
            let _ = spawn.send(Box::pin(async move {
                settle(&stats).await;
                fetch.await;
            }));
        },
    )
    .delay(Duration::ZERO)
    .max_batch_size(MAX_BATCH);
    let request = request.data(state.db.clone()).data(context).data(loader);
    let execute = schema.execute(request);
    let mut response = tokio::select! {
        biased;
        response = execute => response,
        () = drive(fetches) => unreachable!("the loader outlives the execution that owns it"),
    };
    METRICS.request(started.elapsed(), response.is_err());
    coded_errors(&mut response);
    // Kept before the statements are reported: a cached answer runs none.
    let kept = match cacheable {
        Some((cache, key, version)) if response.errors.is_empty() => {
            match serde_json::to_vec(&response) {
                Ok(answer) => {
                    let answer = Bytes::from(answer);
                    cache.store(key, answer.clone(), version).await;
                    Some(answer)
                }
                Err(e) => return unencodable(media, e),
            }
        }
        _ => None,
    };
    if let (Some(answer), false) = (kept, state.report_statements) {
        return with_media((StatusCode::OK, answer).into_response(), media);
    }
    if state.report_statements {
        response.extensions.insert(
            "sqlStatements".into(),
            async_graphql::Value::from(stats.statements()),
        );
    }
    let rejected = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if rejected {
        // Refused before execution (validation, variable coercion): there is no `data`.
        let mut body = serde_json::to_value(&response);
        if let Ok(serde_json::Value::Object(body)) = &mut body {
            body.remove("data");
        }
        return match body {
            Ok(body) => answer(media, media.request_error(), &body),
            Err(e) => unencodable(media, e),
        };
    }
    // Encoded straight to bytes: an answer of thousands of rows is not built twice.
    match serde_json::to_vec(&response) {
        Ok(body) => with_media((StatusCode::OK, body).into_response(), media),
        Err(e) => unencodable(media, e),
    }
}

/// What a query's answer depends on besides the database: the caller (its role and every claim
/// of its token), the document, the operation and the variables.
fn cache_key(
    identity: &crate::runtime::auth::Identity,
    request: &async_graphql::Request,
) -> String {
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    format!(
        "{identity:?}\u{0}{}\u{0}{}\u{0}{variables}",
        request.operation_name.as_deref().unwrap_or(""),
        request.query
    )
}

/// An answer that could not be encoded as JSON.
fn unencodable(media: Media, e: serde_json::Error) -> Response {
    refuse(
        media,
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        &format!("the answer could not be encoded: {e}"),
    )
}

/// What the parser expected, without the excerpt of the document it quotes (which would echo
/// any amount of the input back).
fn syntax_error(error: &async_graphql::parser::Error) -> String {
    let text = error.to_string();
    let expected = text
        .rsplit_once("= ")
        .map_or("the document is not valid GraphQL", |(_, what)| what.trim());
    let expected: String = expected.chars().take(200).collect();
    match error.positions().next() {
        Some(at) => format!(
            "syntax error at line {}, column {}: {expected}",
            at.line, at.column
        ),
        None => format!("syntax error: {expected}"),
    }
}

/// The GraphQL request in `body` (POST) or the query string (GET), or the answer refusing it.
async fn read_request(
    state: &AppState,
    media: Media,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<async_graphql::Request, Response> {
    let bad = |message: &str| refuse(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", message);
    let request = if *method == Method::GET {
        async_graphql::http::parse_query_string(uri.query().unwrap_or("")).map_err(|_| {
            bad("the query string is not a GraphQL request: send `query`, and `variables` as JSON")
        })?
    } else {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" {
            let mut response = refuse(
                media,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the request as `Content-Type: application/json`",
            );
            response
                .headers_mut()
                .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
            return Err(response);
        }
        let limit = state.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            let message = format!("the request body is larger than {limit} bytes (MAX_BODY_BYTES)");
            let mut response = refuse(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &message,
            );
            // The rest of the body is not read, so the connection cannot carry another request:
            // the client is told, rather than finding it closed when it sends the next one.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        })?;
        if bytes.is_empty() {
            return Err(bad(
                "the request body is empty: send {\"query\": ...} as JSON",
            ));
        }
        serde_json::from_slice::<async_graphql::Request>(&bytes).map_err(|e| {
            // The position only: the input is not echoed back.
            let message = format!("the body is not a GraphQL request in JSON (line {}, column {}): send {{\"query\": ..., \"variables\": {{...}}}}", e.line(), e.column());
            bad(&message)
        })?
    };
    if request.query.trim().is_empty() {
        return Err(bad("the request has no `query`"));
    }
    Ok(request)
}

/// Gives every error a stable `extensions.code`: GraphQL's own refusals come without one.
fn coded_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_some() {
            continue;
        }
        // A value GraphQL itself could not coerce (a bad `Date`, an `Email` without `@`, a string
        // for an `Int`) is refused before any resolver runs.
        let argument = error
            .message
            .strip_prefix("Invalid value for argument \"")
            .and_then(|rest| rest.split_once('"'))
            .map(|(path, _)| path.to_string());
        let coercion = argument.is_some()
            || error.message.starts_with("Failed to parse")
            || error.message.starts_with("Variable \"");
        let code = if coercion {
            "VALIDATION_FAILED"
        } else if error.message.starts_with("Query is too complex")
            || error.message.starts_with("Query is nested too deep")
        {
            "LIMIT_EXCEEDED"
        } else if error.path.is_empty() {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "INTERNAL"
        };
        extensions.set("code", code);
        // GraphQL names the argument path of literals it refuses (`input.plan`).
        if let Some(field) = argument {
            let problem = async_graphql::Value::from_json(
                serde_json::json!({"field": field, "code": "INVALID_VALUE", "message": error.message}),
            );
            extensions.set("field", field);
            if let Ok(problem) = problem {
                extensions.set("errors", async_graphql::Value::List(vec![problem]));
            }
        }
    }
}

/// Returns once a round of polling the request added no batched load: every sibling resolver
/// of the current level has then registered its key.
async fn settle(stats: &RequestStats) {
    loop {
        let seen = stats.loads_requested();
        tokio::task::yield_now().await;
        if stats.loads_requested() == seen {
            return;
        }
    }
}

/// Runs the loader's fetches as they arrive, until the loader is dropped.
async fn drive(mut fetches: tokio::sync::mpsc::UnboundedReceiver<BoxFuture<'static, ()>>) {
    let mut running = FuturesUnordered::new();
    loop {
        tokio::select! {
            Some(fetch) = fetches.recv() => running.push(fetch),
            Some(()) = running.next(), if !running.is_empty() => {}
            else => break,
        }
    }
}

/// Parent keys one batched statement may carry (they travel as one JSON parameter).
const MAX_BATCH: usize = 100_000;

/// CORS: browsers may call the API from the configured origins only. Requests from other
/// origins are answered without `Access-Control-Allow-*` headers, so browsers withhold the answer
/// and refuse to send anything but simple requests, which `/graphql` never executes.
async fn cors(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| {
            state
                .cors_allowed_origins
                .iter()
                .any(|a| a == o || a == "*")
        });
    if let (Some(origin), true) = (origin, allowed) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, accept, authorization, x-api-key"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

/// `OPTIONS /graphql`: a CORS preflight, answered by the `cors` layer.
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn method_not_allowed() -> Response {
    let mut response = refuse(
        Media::Json,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "use GET (queries) or POST",
    );
    response.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    response
}

async fn not_found() -> Response {
    refuse(
        Media::Json,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such endpoint; the API is at /graphql",
    )
}

async fn metrics() -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        METRICS.render(),
    )
}

async fn graphiql(State(state): State<AppState>) -> Response {
    if !state.graphiql {
        return not_found().await;
    }
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title(&format!("{} GraphQL API", settings::NAME))
            .finish(),
    )
    .into_response()
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn answers_are_negotiated_from_accept() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(negotiate(&accept("*/*")), Some(Media::Json));
        assert_eq!(negotiate(&accept("text/html")), None);
    }
}
