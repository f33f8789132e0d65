//! Who is asking: the caller's identity, from a JWT in `Authorization: Bearer ...`.
//!
//! Tokens are verified with `JWT_SECRET` (HS256, HS384, HS512), with the public keys of a JWKS
//! file (`JWT_JWKS_FILE`; RS*, PS*, ES256, ES384, EdDSA, each key with its own `alg`) or of a
//! JWKS URL (`JWT_JWKS_URL`, with the `jwks-url` feature: fetched at start-up, refreshed every
//! `JWT_JWKS_REFRESH_SECONDS` and when a token names an unknown `kid`), or with one
//! PEM public key (`JWT_PUBLIC_KEY_FILE` and its `JWT_PUBLIC_KEY_ALGORITHM`). Which
//! algorithms a token may use follows from the key that verifies it, so an `alg: none` token or an
//! HMAC token signed with a public key is refused. `exp` is required; `exp` and `nbf` are checked
//! with `JWT_LEEWAY_SECONDS` of leeway; `iss` and `aud` when `JWT_ISSUER` / `JWT_AUDIENCE` are set.
//! A request without a token is anonymous; a request with a bad one is refused with
//! `UNAUTHENTICATED`, saying which check failed without echoing the token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

pub use crate::settings::{ANONYMOUS_ROLE, ROLE_CLAIM, USER_CLAIM};

/// Who is making a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    /// No credentials were presented.
    Anonymous,
    /// A verified token's subject.
    User {
        /// The user claim ([`USER_CLAIM`]).
        id: String,
        /// The role claim ([`ROLE_CLAIM`]), if the token has one.
        role: Option<String>,
        /// Every claim of the token.
        claims: serde_json::Map<String, serde_json::Value>,
    },
}

impl Identity {
    /// The caller's role: the token's, or the anonymous role.
    pub fn role(&self) -> &str {
        match self {
            Identity::User {
                role: Some(role), ..
            } => role,
            _ => ANONYMOUS_ROLE,
        }
    }

    /// A claim of the caller's token (`None` without a token).
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        match self {
            Identity::User { claims, .. } => claims.get(name),
            Identity::Anonymous => None,
        }
    }
}

/// Why a request's credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Keys of a JWK set by `kid`, each with its one algorithm.
type Keys = HashMap<String, (DecodingKey, Algorithm)>;

/// How soon after a fetch a token with an unknown `kid` may cause another (at most): tokens with
/// made-up `kid`s cannot make the server hammer the issuer.
const JWKS_RETRY: Duration = Duration::from_secs(30);
/// The largest key set read from `JWT_JWKS_URL`.
#[cfg(feature = "jwks-url")]
const JWKS_MAX_BYTES: u64 = 1 << 20;

/// Why a token naming a `kid` is refused when no key has it.
const UNKNOWN_KID: &str = "the token's `kid` names no known key";

/// Verifies tokens; built once at start-up from the configuration.
#[derive(Clone, Default)]
pub struct Authenticator {
    /// Key and algorithms for tokens without `kid` (the shared secret).
    secret: Option<(DecodingKey, Vec<Algorithm>)>,
    /// Keys of the JWKS file or URL.
    keys: Arc<RwLock<Keys>>,
    /// Where `keys` are fetched from, when they come from a URL.
    remote: Option<Arc<Remote>>,
    /// A PEM public key for tokens without a `kid`, with its one algorithm.
    public: Option<(DecodingKey, Algorithm)>,
    leeway: u64,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<String> = self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        f.debug_struct("Authenticator")
            .field("secret", &self.secret.is_some())
            .field("keys", &kids)
            .finish()
    }
}

impl Authenticator {
    /// An authenticator for `secret` and the keys of the JWKS document `jwks`.
    pub fn new(
        secret: Option<&str>,
        jwks: Option<&str>,
        leeway: u64,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<Authenticator, String> {
        let secret = match secret {
            Some(s) if s.len() < 32 => {
                return Err("JWT_SECRET must be at least 32 bytes long".into())
            }
            Some(s) => {
                let key = DecodingKey::from_secret(s.as_bytes())
                    .map_err(|e| format!("JWT_SECRET cannot be used: {e}"))?;
                Some((
                    key,
                    vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
                ))
            }
            None => None,
        };
        let keys = match jwks {
            Some(text) => parse_jwks(text, "the JWKS file")?,
            None => Keys::new(),
        };
        Ok(Authenticator {
            secret,
            keys: Arc::new(RwLock::new(keys)),
            remote: None,
            public: None,
            leeway,
            issuer,
            audience,
        })
    }

    /// This authenticator, also verifying tokens with the keys published at `url` (fetched now;
    /// the server does not start without them; fetched again every `refresh`). `https` is
    /// required except on this machine.
    pub fn with_jwks_url(mut self, url: &str, refresh: Duration) -> Result<Authenticator, String> {
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|host| {
                url.strip_prefix(host).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
                })
            });
        if !url.starts_with("https://") && !local {
            return Err("JWT_JWKS_URL must be an https:// URL (plain http only on this machine): keys fetched in the clear could be replaced".into());
        }
        if !self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
        {
            return Err("set JWT_JWKS_FILE or JWT_JWKS_URL, not both".into());
        }
        let remote = Arc::new(Remote {
            url: url.to_string(),
            refresh,
            fetched: Mutex::new(Instant::now()),
        });
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = remote.fetch()?;
        self.remote = Some(remote);
        Ok(self)
    }

    /// [`Authenticator::identify`], with the keys of `JWT_JWKS_URL` kept current: fetched again in
    /// the background when they are old, and at once (then the token is tried again) when a
    /// token names a `kid` no key has — the issuer may have rotated its keys.
    pub async fn identify_current(&self, header: Option<&str>) -> Result<Identity, Refused> {
        let result = self.identify(header);
        let Some(remote) = &self.remote else {
            return result;
        };
        let unknown = matches!(&result, Err(Refused(why)) if why == UNKNOWN_KID);
        if !remote.due(if unknown {
            JWKS_RETRY.min(remote.refresh)
        } else {
            remote.refresh
        }) {
            return result;
        }
        let (from, keys) = (remote.clone(), self.keys.clone());
        let refresh = tokio::task::spawn_blocking(move || match from.fetch() {
            Ok(fresh) => *keys.write().unwrap_or_else(|p| p.into_inner()) = fresh,
            Err(e) => eprintln!("{e}; the keys fetched before stay in use"),
        });
        if !unknown {
            return result;
        }
        let _ = refresh.await;
        self.identify(header)
    }

    /// This authenticator, also verifying tokens without a `kid` signed with the private half of
    /// the PEM public key `pem`, by `algorithm` (RS256/384/512, PS256/384/512, ES256/384 or EdDSA).
    pub fn with_public_key(mut self, pem: &str, algorithm: &str) -> Result<Authenticator, String> {
        let alg: Algorithm = algorithm
            .parse()
            .map_err(|_| format!("`{algorithm}` is not a token algorithm"))?;
        let key = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => DecodingKey::from_rsa_pem(pem.as_bytes()),
            Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem.as_bytes()),
            _ => {
                return Err(format!(
                    "`{algorithm}` signs with a shared secret; put shared secrets in JWT_SECRET"
                ))
            }
        }
        .map_err(|e| format!("the public key is not a PEM key for {algorithm}: {e}"))?;
        self.public = Some((key, alg));
        Ok(self)
    }

    /// Whether any key is configured.
    pub fn accepts_tokens(&self) -> bool {
        self.secret.is_some()
            || self.remote.is_some()
            || !self
                .keys
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
            || self.public.is_some()
    }

    /// The identity the `Authorization` header value `header` proves (`None`: no header).
    pub fn identify(&self, header: Option<&str>) -> Result<Identity, Refused> {
        let Some(header) = header else {
            return Ok(Identity::Anonymous);
        };
        let refuse = |why: &str| Err(Refused(why.to_string()));
        let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
        else {
            return refuse("the Authorization header must be `Bearer <token>`");
        };
        if !self.accepts_tokens() {
            return refuse("this server accepts no tokens (it has no JWT_SECRET, JWT_JWKS_FILE, JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE)");
        }
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return refuse("the token is malformed");
        };
        let shared = matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        );
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let (key, algorithms) = match (&header.kid, &self.secret, &self.public) {
            (Some(kid), _, _) if !keys.is_empty() || self.remote.is_some() => match keys.get(kid) {
                Some((key, alg)) => (key, vec![*alg]),
                None => return refuse(UNKNOWN_KID),
            },
            // The token's algorithm picks between the secret and the public key; each then
            // accepts only its own algorithms, so neither can stand in for the other.
            (_, _, Some((key, alg))) if !shared || self.secret.is_none() => (key, vec![*alg]),
            (_, Some((key, algorithms)), _) => (key, algorithms.clone()),
            _ => return refuse("the token has no `kid` naming one of the server's keys"),
        };
        if !algorithms.contains(&header.alg) {
            return refuse("the token's algorithm is not accepted for its key");
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = algorithms;
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.validate_aud = self.audience.is_some();
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        if let Some(audience) = &self.audience {
            validation.set_audience(&[audience]);
        }
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            key,
            &validation,
        )
        .map_err(|e| {
            Refused(
                match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet (`nbf`)",
                    ErrorKind::InvalidSignature => "the token's signature does not verify",
                    ErrorKind::InvalidAlgorithm
                    | ErrorKind::InvalidAlgorithmName
                    | ErrorKind::UnsupportedAlgorithm => {
                        "the token's algorithm is not accepted for its key"
                    }
                    ErrorKind::InvalidIssuer => "the token's issuer (`iss`) is not accepted",
                    ErrorKind::InvalidAudience => "the token's audience (`aud`) is not accepted",
                    ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => {
                        "the token has no expiry (`exp`)"
                    }
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                }
                .to_string(),
            )
        })?;
        let claims = data.claims;
        let id = match claims.get(USER_CLAIM) {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(serde_json::Value::Number(id)) => id.to_string(),
            _ => {
                return Err(Refused(format!(
                    "the token has no `{USER_CLAIM}` claim naming the user"
                )))
            }
        };
        let role = match claims.get(ROLE_CLAIM) {
            None => None,
            Some(serde_json::Value::String(role)) => Some(role.clone()),
            Some(_) => {
                return Err(Refused(format!(
                    "the token's `{ROLE_CLAIM}` claim is not a string"
                )))
            }
        };
        Ok(Identity::User { id, role, claims })
    }
}

/// The keys of the JWK set `text` (read from `source`): each needs a `kid` and an asymmetric `alg`.
fn parse_jwks(text: &str, source: &str) -> Result<Keys, String> {
    let set: JwkSet =
        serde_json::from_str(text).map_err(|e| format!("{source} is not a JWK set: {e}"))?;
    let mut keys = Keys::new();
    for jwk in &set.keys {
        let kid = jwk
            .common
            .key_id
            .clone()
            .ok_or_else(|| format!("every key of {source} needs a `kid`"))?;
        let alg = jwk
            .common
            .key_algorithm
            .ok_or_else(|| format!("key `{kid}` of {source} needs an `alg`"))?;
        let alg: Algorithm = alg
            .to_string()
            .parse()
            .map_err(|_| format!("key `{kid}` has an algorithm that cannot sign tokens"))?;
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(format!(
                "key `{kid}` of {source} is a shared secret; put shared secrets in JWT_SECRET"
            ));
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| format!("key `{kid}` of {source} cannot be used: {e}"))?;
        keys.insert(kid, (key, alg));
    }
    Ok(keys)
}

/// A JWKS URL and when its keys were last fetched (or a fetch last tried).
struct Remote {
    url: String,
    refresh: Duration,
    fetched: Mutex<Instant>,
}

impl Remote {
    /// Whether `interval` has passed since the last fetch; if so, the caller fetches now (and
    /// the clock restarts, so concurrent callers do not all fetch).
    fn due(&self, interval: Duration) -> bool {
        let mut fetched = self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        if fetched.elapsed() < interval {
            return false;
        }
        *fetched = Instant::now();
        true
    }

    /// The keys published at the URL (a blocking request: 10 s at most, 1 MiB at most).
    #[cfg(feature = "jwks-url")]
    fn fetch(&self) -> Result<Keys, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut response = agent
            .get(&self.url)
            .call()
            .map_err(|e| format!("cannot fetch the keys of JWT_JWKS_URL: {e}"))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(JWKS_MAX_BYTES)
            .read_to_string()
            .map_err(|e| format!("cannot read the keys of JWT_JWKS_URL: {e}"))?;
        parse_jwks(&text, "the document at JWT_JWKS_URL")
    }

    #[cfg(not(feature = "jwks-url"))]
    fn fetch(&self) -> Result<Keys, String> {
        Err(format!(
            "this server was built without the `jwks-url` feature, which fetches JWT_JWKS_URL ({}): rebuild it with `cargo build --release --features jwks-url`, or save the key set to a file and set JWT_JWKS_FILE",
            self.url
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "a secret of at least thirty-two bytes";
    /// A throw-away Ed25519 key pair for these tests only.
    const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPSqno4nzcVLxJQgY4lNUFvPEd45PoXTWT+GvhzZ/QFe\n-----END PRIVATE KEY-----\n";
    const ED_PUBLIC_X: &str = "FmT_xGH_Jx4tQRWm06CW0cPCGRimQOOlBf-obZVPZAs";

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn claims(extra: serde_json::Value) -> serde_json::Value {
        let mut c = json!({ USER_CLAIM: "42", ROLE_CLAIM: "author", "exp": now() + 600 });
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    }

    fn hs(alg: Algorithm, secret: &str, claims: &serde_json::Value) -> String {
        encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn refused(auth: &Authenticator, token: &str) -> String {
        auth.identify(Some(&bearer(token))).unwrap_err().0
    }

    #[test]
    fn a_valid_token_names_the_user_and_role() {
        let auth = Authenticator::new(Some(SECRET), None, 30, None, None).unwrap();
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let identity = auth
                .identify(Some(&bearer(&hs(alg, SECRET, &claims(json!({}))))))
                .unwrap();
            assert_eq!(identity.role(), "author");
            assert!(matches!(identity, Identity::User { ref id, .. } if id == "42"));
        }
        assert_eq!(auth.identify(None).unwrap(), Identity::Anonymous);
        assert_eq!(Identity::Anonymous.role(), ANONYMOUS_ROLE);
    }

    #[test]
    fn every_failed_check_is_named_and_the_token_never_echoed() {
        let auth = Authenticator::new(
            Some(SECRET),
            None,
            30,
            Some("https://issuer.example".into()),
            Some("api".into()),
        )
        .unwrap();
        let good = claims(json!({"iss": "https://issuer.example", "aud": "api"}));
        assert!(auth
            .identify(Some(&bearer(&hs(Algorithm::HS256, SECRET, &good))))
            .is_ok());
        let cases = [
            (
                hs(
                    Algorithm::HS256,
                    SECRET,
                    &claims(
                        json!({"iss": "https://issuer.example", "aud": "api", "exp": now() - 120}),
                    ),
                ),
                "expired",
            ),
            (
                hs(
                    Algorithm::HS256,
                    SECRET,
                    &claims(
                        json!({"iss": "https://issuer.example", "aud": "api", "nbf": now() + 600}),
                    ),
                ),
                "not valid yet",
            ),
            (
                hs(
                    Algorithm::HS256,
                    "another secret, also thirty-two bytes",
                    &good,
                ),
                "signature",
            ),
            (
                hs(
                    Algorithm::HS256,
                    SECRET,
                    &claims(json!({"iss": "https://evil.example", "aud": "api"})),
                ),
                "issuer",
            ),
            (
                hs(
                    Algorithm::HS256,
                    SECRET,
                    &claims(json!({"iss": "https://issuer.example", "aud": "web"})),
                ),
                "audience",
            ),
            (
                hs(
                    Algorithm::HS256,
                    SECRET,
                    &json!({ USER_CLAIM: "42", "iss": "https://issuer.example", "aud": "api" }),
                ),
                "expiry",
            ),
            (
                hs(
                    Algorithm::HS256,
                    SECRET,
                    &json!({"exp": now() + 600, "iss": "https://issuer.example", "aud": "api"}),
                ),
                USER_CLAIM,
            ),
            ("not.a.token".to_string(), "malformed"),
        ];
        for (token, expected) in cases {
            let why = refused(&auth, &token);
            assert!(why.contains(expected), "{expected}: {why}");
            assert!(!why.contains(&token), "{why}");
        }
        // `alg: none`: an unsigned token.
        let unsigned = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&good.to_string())
        );
        assert!(
            refused(&auth, &unsigned).contains("malformed")
                || refused(&auth, &unsigned).contains("algorithm")
        );
        assert!(auth
            .identify(Some("Basic dXNlcjpwYXNz"))
            .unwrap_err()
            .0
            .contains("Bearer"));
    }

    fn b64(text: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn public_keys_verify_their_own_algorithm_only() {
        let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": ED_PUBLIC_X, "kid": "k1", "alg": "EdDSA", "use": "sig"}]}).to_string();
        let auth = Authenticator::new(None, Some(&jwks), 30, None, None).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".into());
        let token = encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            auth.identify(Some(&bearer(&token))).unwrap(),
            Identity::User { .. }
        ));
        // Algorithm confusion: an HMAC token "signed" with the public key is refused.
        let mut confused = Header::new(Algorithm::HS256);
        confused.kid = Some("k1".into());
        let forged = encode(
            &confused,
            &claims(json!({})),
            &EncodingKey::from_secret(ED_PUBLIC_X.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(refused(&auth, &forged).contains("algorithm"));
        let mut unknown = Header::new(Algorithm::EdDSA);
        unknown.kid = Some("k2".into());
        let other = encode(
            &unknown,
            &claims(json!({})),
            &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(refused(&auth, &other).contains("kid"));
        // One PEM public key: its algorithm only; an HMAC token "signed" with the key is refused.
        let spki = [
            &[
                0x30u8, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ][..],
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                ED_PUBLIC_X,
            )
            .unwrap(),
        ]
        .concat();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, spki)
        );
        let single = Authenticator::new(Some(SECRET), None, 30, None, None)
            .unwrap()
            .with_public_key(&pem, "EdDSA")
            .unwrap();
        let unnamed = encode(
            &Header::new(Algorithm::EdDSA),
            &claims(json!({})),
            &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            single.identify(Some(&bearer(&unnamed))).unwrap(),
            Identity::User { .. }
        ));
        assert!(matches!(
            single
                .identify(Some(&bearer(&hs(
                    Algorithm::HS256,
                    SECRET,
                    &claims(json!({}))
                ))))
                .unwrap(),
            Identity::User { .. }
        ));
        let confused = encode(
            &Header::new(Algorithm::HS256),
            &claims(json!({})),
            &EncodingKey::from_secret(pem.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(refused(&single, &confused).contains("signature"));
        let only_public = Authenticator::default()
            .with_public_key(&pem, "EdDSA")
            .unwrap();
        assert!(refused(&only_public, &confused).contains("algorithm"));
        assert!(Authenticator::default()
            .with_public_key(&pem, "HS256")
            .is_err());
        assert!(Authenticator::default()
            .with_public_key("not a key", "RS256")
            .is_err());
        // A server without keys refuses tokens instead of ignoring them.
        let none = Authenticator::default();
        assert!(refused(&none, &token).contains("accepts no tokens"));
        assert!(Authenticator::new(Some("short"), None, 30, None, None).is_err());
    }
}
