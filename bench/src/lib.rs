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
                let agent = agent();
                let mut latencies = Vec::new();
                loop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let vars = variables(n, rows);
                    let started = Instant::now();
                    if started >= deadline {
                        break;
                    }
                    post(&agent, &url, who.as_deref(), &query, &vars);
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
