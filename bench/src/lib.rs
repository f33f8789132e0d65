//! What the benchmark's drivers share: starting a server process, sending GraphQL requests,
//! driving one query with concurrent keep-alive clients, reading a process's memory, and naming
//! the machine.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A running server process, killed on drop.
pub struct Server {
    pub child: Child,
    /// `http://host:port`.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server that prints `listening on http://...` as its first line.
pub fn start(command: &mut Command) -> Server {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read address");
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    Server { child, base }
}

/// A free port on 127.0.0.1, for a server that is told its port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Waits until `url` answers HTTP at all (any status), for servers that print no address.
pub fn wait_until_up(url: &str, within: Duration) {
    let agent = agent();
    let until = Instant::now() + within;
    loop {
        match agent.get(url).config().http_status_as_error(false).build().call() {
            Ok(_) => return,
            Err(e) if Instant::now() > until => panic!("{url} did not come up: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Latencies and throughput of one query under load.
pub struct Figures {
    pub requests: u64,
    pub rps: f64,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).build().into()
}

/// Sends one GraphQL request to the endpoint `url` and returns its answer, which must have no errors.
pub fn post(agent: &ureq::Agent, url: &str, who: Option<&str>, query: &str, variables: &Value) -> Value {
    let request = agent.post(url);
    let request = match who {
        Some(header) => request.header("authorization", header),
        None => request,
    };
    let mut res = request.send_json(json!({"query": query, "variables": variables})).expect("request");
    let body: Value = res.body_mut().read_json().expect("json body");
    assert!(body.get("errors").is_none(), "query failed: {body}\n{query}");
    body
}

/// A keep-alive HTTP/1.1 client that POSTs GraphQL requests over one connection and reads the
/// answers with as little work as it can: the load generator shares the machine's cores with the
/// servers it measures, so every microsecond it spends is taken from them (with a general-purpose
/// client and a JSON tree per answer it used about 170 us of CPU per request, as much as
/// PostgreSQL spent answering it). An answer is checked whole: status 200 and, when its text
/// mentions `"errors"`, parsed and checked for an `errors` entry.
pub struct Driver {
    host: String,
    /// Open while the server keeps it open (a server that closes after each answer, as gunicorn's
    /// sync workers do, is connected to again for each request).
    stream: Option<std::net::TcpStream>,
    /// `POST <path> HTTP/1.1`, the host and the fixed headers, up to `Content-Length: `.
    head: String,
    /// `{"query":<query>,"variables":` before each request's variables.
    body_start: String,
    read: Vec<u8>,
    out: Vec<u8>,
}

impl Driver {
    /// A client of the endpoint `url` (`http://host:port/path`) asking `query`, as `who`.
    pub fn new(url: &str, who: Option<&str>, query: &str) -> Driver {
        let rest = url.strip_prefix("http://").expect("an http:// endpoint");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json\r\n");
        if let Some(who) = who {
            head.push_str(&format!("Authorization: {who}\r\n"));
        }
        head.push_str("Content-Length: ");
        let body_start = format!("{{\"query\":{},\"variables\":", serde_json::to_string(query).expect("query"));
        Driver { host: host.to_string(), stream: None, head, body_start, read: Vec::with_capacity(64 * 1024), out: Vec::with_capacity(4096) }
    }

    fn stream(&mut self) -> &mut std::net::TcpStream {
        let host = &self.host;
        self.stream.get_or_insert_with(|| {
            let stream = std::net::TcpStream::connect(host).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            stream
        })
    }

    /// Reads more of the answer; false when the server closed the connection.
    fn more(&mut self) -> bool {
        use std::io::Read;
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream().read(&mut chunk).expect("receive");
        self.read.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// Sends the query with `variables` and reads its answer, which must have no errors.
    pub fn ask(&mut self, variables: &Value) {
        use std::io::Write;
        let vars = serde_json::to_string(variables).expect("variables");
        let length = self.body_start.len() + vars.len() + 1;
        self.out.clear();
        write!(self.out, "{}{length}\r\n\r\n{}{vars}}}", self.head, self.body_start).expect("request");
        let fresh = self.stream.is_none();
        let out = std::mem::take(&mut self.out);
        self.stream().write_all(&out).expect("send");
        self.read.clear();
        // The head, then the body its length (or its chunks) says.
        let head_end = loop {
            if let Some(at) = find(&self.read, b"\r\n\r\n") {
                break at + 4;
            }
            if !self.more() {
                // A kept-alive connection the server had closed: once more on a new one.
                assert!(!fresh && self.read.is_empty(), "the server closed the connection");
                self.stream = None;
                self.out = out;
                return self.ask(variables);
            }
        };
        self.out = out;
        let head = std::str::from_utf8(&self.read[..head_end]).expect("a text head").to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "status: {}", head.lines().next().unwrap_or(""));
        let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
        let body = if let Some(length) = header("content-length:") {
            let length: usize = length.parse().expect("a length");
            while self.read.len() < head_end + length {
                assert!(self.more(), "the server closed the connection");
            }
            self.read[head_end..head_end + length].to_vec()
        } else {
            assert_eq!(header("transfer-encoding:").as_deref(), Some("chunked"), "a length or chunks");
            let mut body = Vec::new();
            let mut at = head_end;
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.read[at..], b"\r\n") {
                        break at + i;
                    }
                    assert!(self.more(), "the server closed the connection");
                };
                let size_text = std::str::from_utf8(&self.read[at..line_end]).expect("a chunk size");
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("a chunk size");
                while self.read.len() < line_end + 2 + size + 2 {
                    assert!(self.more(), "the server closed the connection");
                }
                body.extend_from_slice(&self.read[line_end + 2..line_end + 2 + size]);
                at = line_end + 2 + size + 2;
                if size == 0 {
                    break;
                }
            }
            body
        };
        if head.contains("\r\nconnection: close") {
            self.stream = None;
        }
        if find(&body, b"\"errors\"").is_some() {
            let answer: Value = serde_json::from_slice(&body).expect("a JSON answer");
            assert!(answer.get("errors").is_none(), "query failed: {answer}");
        }
        assert!(body.starts_with(b"{\"data\""), "an answer: {}", String::from_utf8_lossy(&body));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How long and how hard to drive each query.
pub struct Load {
    pub seconds: u64,
    pub clients: usize,
}

/// Drives `query` at the endpoint `url` with `load.clients` concurrent clients for
/// `load.seconds` after a 2 s warm-up; `variables(n, rows)` gives the `n`th request's variables.
pub fn load(url: &str, who: Option<String>, query: &str, variables: fn(u64, u64) -> Value, rows: u64, load: &Load) -> Figures {
    // Request numbers start past the one a statement count probes with, so writes never repeat it.
    let counter = Arc::new(AtomicU64::new(1_000));
    let warmup = Instant::now() + Duration::from_secs(2);
    let deadline = warmup + Duration::from_secs(load.seconds);
    let workers: Vec<_> = (0..load.clients)
        .map(|_| {
            let url = url.to_string();
            let who = who.clone();
            let query = query.to_string();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut driver = Driver::new(&url, who.as_deref(), &query);
                let mut latencies = Vec::new();
                loop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let vars = variables(n, rows);
                    let started = Instant::now();
                    if started >= deadline {
                        break;
                    }
                    driver.ask(&vars);
                    if started >= warmup {
                        latencies.push(started.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<Duration> = workers.into_iter().flat_map(|w| w.join().expect("client thread")).collect();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Figures { requests: all.len() as u64, rps: all.len() as f64 / load.seconds as f64, p50: at(0.50), p95: at(0.95), p99: at(0.99) }
}

/// The process `pid` and every process below it (a pre-forking server's workers).
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).unwrap_or_default();
        tree.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        i += 1;
    }
    tree
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix(field).map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))))
        .unwrap_or(0)
}

/// A memory field of `/proc/<pid>/status` summed over `pid` and its descendants, in MiB.
fn tree_mib(pid: u32, field: &str) -> f64 {
    process_tree(pid).iter().map(|p| status_kib(*p, field)).sum::<u64>() as f64 / 1024.0
}

/// Resident memory of `pid` and its descendants, in MiB: now, and the peak since the last
/// [`reset_peak_rss`] (summed over the processes).
pub fn rss_mib(pid: u32) -> (f64, f64) {
    (tree_mib(pid, "VmRSS:"), tree_mib(pid, "VmHWM:"))
}

/// Watches the anonymous resident memory (the heap: what is not the binary's or the database
/// file's mapped pages, which the kernel shares and can drop) of `pid` and its descendants every
/// 20 ms until `stop` is set, and returns its peak in MiB.
pub fn watch_heap(pid: u32, stop: Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak = 0.0f64;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(heap_mib(pid));
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    })
}

/// Anonymous resident memory of `pid` and its descendants now, in MiB.
pub fn heap_mib(pid: u32) -> f64 {
    tree_mib(pid, "RssAnon:")
}

/// Starts the peak resident memory of `pid` and its descendants over from what they hold now.
pub fn reset_peak_rss(pid: u32) {
    for p in process_tree(pid) {
        let _ = std::fs::write(format!("/proc/{p}/clear_refs"), "5");
    }
}

/// Cores, CPU model and memory of this machine, for the heading of a table.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())))
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_string())))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} cores ({cpu}), {memory} memory")
}
