//! Copied into the crate generated from `model-specs/saas.yaml` by `tests/build_generated.rs`,
//! which builds it with `--features jwks-url`: tokens verified with the keys an identity provider
//! publishes at a URL — fetched at start-up, fetched again when the provider rotates its keys,
//! never fetched more than the refresh interval allows however many unknown `kid`s arrive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

/// Two throw-away Ed25519 key pairs (for this test only): the provider's old and new key.
const OLD_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIN34IZI3iOP0RBxvbg/dPCR2BHJ5NdmCw2W+JeYKFAU8\n-----END PRIVATE KEY-----\n";
const OLD_PUBLIC_X: &str = "jp3B8Et7pQbZof5Rwt2PPVj3P9Ck6MaPd4Ng55UdZyM";
const NEW_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIAsV9ILqoP8nyOnBj6YVJmS8ccfsRPabkA9Fe0xBbFL\n-----END PRIVATE KEY-----\n";
const NEW_PUBLIC_X: &str = "9k7xHv6BL3UeFn52cs2yhhqGGyVFXlYbgSEAn7Crv5Q";

/// The refresh interval the server is started with (also the least time between two fetches).
const REFRESH_SECONDS: u64 = 3;

fn jwk(kid: &str, x: &str) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"})
}

fn token(kid: &str, private_pem: &str) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    let key = jsonwebtoken::EncodingKey::from_ed_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &json!({"sub": "1", "role": "admin", "exp": exp}), &key).unwrap()
}

/// An identity provider's JWKS endpoint on this machine: serves the set it holds now, and
/// counts the requests.
struct Provider {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl Provider {
    fn start(keys: Value) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        let (keys, fetches) = (Arc::new(Mutex::new(keys)), Arc::new(AtomicUsize::new(0)));
        let (served, counted) = (keys.clone(), fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    request.push(byte[0]);
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let body = served.lock().unwrap().to_string();
                let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes()));
            }
        });
        Provider { url, keys, fetches }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// The server started with `url` as its JWKS URL: `Ok` with the child and its address once it
/// listens, `Err` with what it printed when it refused to start.
fn serve(url: &str, dir: &tempfile::TempDir) -> Result<(Child, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_saas-api"))
        .env("DATABASE_URL", dir.path().join("saas.db"))
        .env_remove("JWT_SECRET")
        .env("JWT_JWKS_URL", url)
        .env("JWT_JWKS_REFRESH_SECONDS", REFRESH_SECONDS.to_string())
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(base) => Ok((child, base.to_string())),
        None => {
            let status = child.wait().unwrap();
            assert!(!status.success(), "a server that does not listen must fail");
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            Err(err)
        }
    }
}

/// The HTTP status of `{ orgs { id } }` sent with `token`, and the error code if any.
fn ask(agent: &ureq::Agent, base: &str, token: &str) -> (u16, String) {
    let mut res = agent
        .post(format!("{base}/graphql"))
        .header("authorization", format!("Bearer {token}"))
        .send_json(json!({"query": "{ orgs { id } }"}))
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.body_mut().read_json().unwrap();
    (status, body["errors"][0]["extensions"]["code"].as_str().unwrap_or("").to_string())
}

#[test]
fn keys_published_at_a_url_verify_tokens_and_follow_rotation() {
    let provider = Provider::start(json!({"keys": [jwk("old", OLD_PUBLIC_X)]}));
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(&provider.url, &dir).unwrap_or_else(|e| panic!("the server did not start: {e}"));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build().into();
    assert_eq!(provider.fetches(), 1, "fetched once at start-up");
    assert_eq!(ask(&agent, &base, &token("old", OLD_PRIVATE)), (200, String::new()));

    // The provider rotates its key. Once the refresh interval has passed, the first token with
    // the new `kid` makes the server fetch the keys again, and it is accepted.
    *provider.keys.lock().unwrap() = json!({"keys": [jwk("new", NEW_PUBLIC_X)]});
    std::thread::sleep(Duration::from_millis(REFRESH_SECONDS * 1000 + 200));
    assert_eq!(ask(&agent, &base, &token("new", NEW_PRIVATE)), (200, String::new()));
    let after_rotation = provider.fetches();
    assert!(after_rotation >= 2, "fetched again for the new kid");

    // The old key is gone; a token signed with the new key under another kid is no better; and a
    // burst of made-up kids right after a fetch causes no further fetch.
    assert_eq!(ask(&agent, &base, &token("old", OLD_PRIVATE)), (401, "UNAUTHENTICATED".into()));
    for i in 0..20 {
        assert_eq!(ask(&agent, &base, &token(&format!("made-up-{i}"), NEW_PRIVATE)), (401, "UNAUTHENTICATED".into()));
    }
    assert!(provider.fetches() <= after_rotation + 1, "unknown kids may not make the server hammer the provider: {} fetches", provider.fetches());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_server_refuses_to_start_without_its_keys_or_over_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let err = serve("http://keys.example.com/jwks.json", &dir).err().expect("plain http to another machine is refused");
    assert!(err.contains("JWT_JWKS_URL must be an https:// URL"), "{err}");
    // Nothing listens on the port of a listener just dropped.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = serve(&format!("http://127.0.0.1:{port}/jwks.json"), &dir).err().expect("keys that cannot be fetched stop the start");
    assert!(err.contains("cannot fetch the keys of JWT_JWKS_URL"), "{err}");
    let not_keys = Provider::start(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}]}));
    let err = serve(&not_keys.url, &dir).err().expect("a shared secret in a public key set is refused");
    assert!(err.contains("is a shared secret"), "{err}");
}
