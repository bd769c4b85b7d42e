//! A strict fake Zoom for tests and the demo (see ZOOM-FACTS.md): OAuth with PKCE and
//! rotating refresh tokens, Server-to-Server tokens, the Meeting API with every request body
//! validated against Zoom's own OpenAPI export, injectable faults, observability, and a
//! webhook sender that signs exactly as Zoom does.
//!
//! Admin endpoints live under `/__admin/` (JSON in, JSON out); see `admin()`.

pub mod http;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use http::{Reply, Request};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zoom_spec::Spec;

const CODE_TTL: i64 = 300;
const TOKEN_TTL: i64 = 3599;
const LOG_SIZE: usize = 200;

#[derive(Clone)]
struct App {
    secret: String,
    redirect_uri: String,
}

#[derive(Clone)]
struct S2sApp {
    secret: String,
    account_id: String,
}

#[derive(Clone)]
struct User {
    id: String,
    email: String,
    account_id: String,
}

struct Code {
    client_id: String,
    user_id: String,
    redirect_uri: String,
    challenge: String,
    expires_at: i64,
}

#[derive(Clone)]
struct Token {
    client_id: String,
    /// `None` for a Server-to-Server token (acts for the whole account).
    user_id: Option<String>,
    account_id: String,
    expires_at: i64,
}

#[derive(Clone)]
struct Fault {
    kind: String,
    remaining: u32,
    path_prefix: String,
    retry_after: String,
    latency_ms: u64,
}

#[derive(Default)]
struct World {
    apps: HashMap<String, App>,
    s2s: HashMap<String, S2sApp>,
    users: Vec<User>,
    consent_as: Option<String>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Token>,
    refresh: HashMap<String, Token>,
    meetings: BTreeMap<u64, Value>,
    daily: HashMap<(String, i64), u32>,
    daily_cap: u32,
    /// The largest page a list answers (tests set it low to exercise pagination).
    list_page_size: usize,
    faults: Vec<Fault>,
    calls: BTreeMap<String, u64>,
    invalid_bodies: u64,
    log: VecDeque<Value>,
    clock_offset: i64,
}

pub struct FakeZoom {
    base: String,
    spec: Spec,
    world: Mutex<World>,
    seq: AtomicU64,
}

fn now_real() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn zoom_error(status: u16, code: i64, message: &str) -> Reply {
    Reply::json(status, &json!({"code": code, "message": message}))
}

/// `yyyy-MM-ddTHH:mm:ssZ` back to Unix time (the inverse of [`utc`]).
fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || !s.is_ascii() || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn utc(t: i64) -> String {
    // Civil date from days (Howard Hinnant's algorithm): enough for a test server.
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

impl FakeZoom {
    pub fn new(base: &str, spec: Spec) -> Arc<Self> {
        Arc::new(Self {
            base: base.trim_end_matches('/').to_string(),
            spec,
            world: Mutex::new(World {
                daily_cap: 100,
                list_page_size: 300,
                ..Default::default()
            }),
            seq: AtomicU64::new(1),
        })
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> i64 {
        now_real() + self.world().clock_offset
    }

    fn token(&self, prefix: &str) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let h = Sha256::digest(format!("{prefix}{n}{}", now_real()).as_bytes());
        format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(&h[..18]))
    }

    pub fn handle(&self, req: &Request) -> Reply {
        if let Some(rest) = req.path.strip_prefix("/__admin/") {
            return self.admin(rest, req);
        }
        let endpoint = self.endpoint_name(req);
        let fault = self.take_fault(req);
        if let Some(f) = &fault {
            if f.kind == "latency" {
                std::thread::sleep(Duration::from_millis(f.latency_ms));
            }
        }
        let reply = match fault.as_ref().map(|f| f.kind.as_str()) {
            Some("rate_limit") => self.rate_limited(fault.as_ref().unwrap(), false),
            Some("daily_cap") => self.rate_limited(fault.as_ref().unwrap(), true),
            Some("server_error") => zoom_error(500, 500, "Internal Server Error"),
            _ => self.route(req, fault.as_ref().map(|f| f.kind.as_str())),
        };
        let mut w = self.world();
        *w.calls.entry(endpoint).or_default() += 1;
        let entry = json!({
            "method": req.method, "path": req.path, "query": req.query,
            "status": reply.status(), "body": req.body_text().chars().take(4000).collect::<String>(),
        });
        w.log.push_back(entry);
        while w.log.len() > LOG_SIZE {
            w.log.pop_front();
        }
        reply
    }

    fn endpoint_name(&self, req: &Request) -> String {
        let seg: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        let name = match (req.method.as_str(), seg.as_slice()) {
            (_, ["oauth", x]) => format!("oauth.{x}"),
            ("GET", ["v2", "users", _]) => "users.get".into(),
            ("POST", ["v2", "users", _, "meetings"]) => "meetings.create".into(),
            ("GET", ["v2", "users", _, "meetings"]) => "meetings.list".into(),
            ("GET", ["v2", "meetings", _]) => "meetings.get".into(),
            ("PATCH", ["v2", "meetings", _]) => "meetings.update".into(),
            ("DELETE", ["v2", "meetings", _]) => "meetings.delete".into(),
            ("POST", ["v2", "meetings", _, "registrants"]) => "meetings.registrants.add".into(),
            _ => format!("{} {}", req.method, req.path),
        };
        name
    }

    fn take_fault(&self, req: &Request) -> Option<Fault> {
        let mut w = self.world();
        let i = w
            .faults
            .iter()
            .position(|f| f.remaining > 0 && req.path.starts_with(&f.path_prefix))?;
        w.faults[i].remaining -= 1;
        let f = w.faults[i].clone();
        w.faults.retain(|f| f.remaining > 0);
        Some(f)
    }

    fn rate_limited(&self, f: &Fault, daily: bool) -> Reply {
        let message = if daily {
            "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."
        } else {
            "You have reached the maximum per-second rate limit for this API. Try again later."
        };
        let r = zoom_error(429, 429, message);
        let now = self.now();
        match f.retry_after.as_str() {
            "absent" => r,
            "date" if daily => {
                r.with_header("Retry-After", &utc((now.div_euclid(86_400) + 1) * 86_400))
            }
            "date" => r.with_header("Retry-After", &utc(now + 2)),
            secs => r.with_header("Retry-After", if secs.is_empty() { "1" } else { secs }),
        }
    }

    fn route(&self, req: &Request, fault: Option<&str>) -> Reply {
        let seg: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", ["oauth", "authorize"]) => self.authorize(req),
            ("POST", ["oauth", "token"]) => self.token_endpoint(req),
            ("POST", ["oauth", "revoke"]) => self.revoke(req),
            ("GET", ["v2", "users", who]) => self.with_token(req, fault, |t| self.get_user(t, who)),
            ("POST", ["v2", "users", who, "meetings"]) => self.with_token(req, fault, |t| {
                self.create(t, who, req, fault == Some("drop_after_create"))
            }),
            ("GET", ["v2", "users", who, "meetings"]) => {
                self.with_token(req, fault, |t| self.list(t, who, req))
            }
            ("GET", ["v2", "meetings", id]) => {
                self.with_token(req, fault, |t| self.get_meeting(t, id))
            }
            ("PATCH", ["v2", "meetings", id]) => {
                self.with_token(req, fault, |t| self.update(t, id, req))
            }
            ("DELETE", ["v2", "meetings", id]) => {
                self.with_token(req, fault, |t| self.delete(t, id))
            }
            ("POST", ["v2", "meetings", id, "registrants"]) => {
                self.with_token(req, fault, |t| self.add_registrant(t, id, req))
            }
            _ => zoom_error(404, 404, "No such endpoint in the fake Zoom."),
        }
    }

    // ---- OAuth -------------------------------------------------------------------------

    fn authorize(&self, req: &Request) -> Reply {
        let q = req.query_map();
        let bad = |m: &str| Reply::json(400, &json!({"error": "invalid_request", "reason": m}));
        let Some(client_id) = q.get("client_id") else {
            return bad("client_id is missing");
        };
        let Some(app) = self.world().apps.get(client_id).cloned() else {
            return Reply::json(
                400,
                &json!({"code": 4702, "error": "invalid_client", "reason": "Invalid client_id"}),
            );
        };
        if q.get("response_type").map(String::as_str) != Some("code") {
            return bad("response_type must be code");
        }
        if q.get("redirect_uri") != Some(&app.redirect_uri) {
            return Reply::json(
                400,
                &json!({"code": 4709, "error": "invalid_request", "reason": "Redirect URI mismatch."}),
            );
        }
        match q.get("code_challenge_method").map(String::as_str) {
            Some("S256") => {}
            // Zoom defaults to `plain` when the method is absent: this fake refuses both.
            _ => return bad("code_challenge_method must be S256"),
        }
        let Some(challenge) = q.get("code_challenge").filter(|c| c.len() == 43) else {
            return bad("code_challenge must be a base64url SHA-256");
        };
        let user = self.consenting_user(client_id);
        let code = self.token("code");
        let expires_at = self.now() + CODE_TTL;
        self.world().codes.insert(
            code.clone(),
            Code {
                client_id: client_id.clone(),
                user_id: user.id,
                redirect_uri: app.redirect_uri.clone(),
                challenge: challenge.clone(),
                expires_at,
            },
        );
        let mut location = format!(
            "{}{}code={}",
            app.redirect_uri,
            if app.redirect_uri.contains('?') {
                '&'
            } else {
                '?'
            },
            code
        );
        if let Some(state) = q.get("state") {
            location.push_str("&state=");
            location.extend(form_urlencoded::byte_serialize(state.as_bytes()));
        }
        Reply::empty(302).with_header("Location", &location)
    }

    /// Auto-consent as the user named by `/__admin/consent-as`, else as a new user.
    fn consenting_user(&self, client_id: &str) -> User {
        let mut w = self.world();
        if let Some(email) = w.consent_as.clone() {
            if let Some(u) = w.users.iter().find(|u| u.email == email) {
                return u.clone();
            }
        }
        let n = w.users.len() + 1;
        let u = User {
            id: format!(
                "fzUser{n:04}{}",
                &client_id.chars().take(6).collect::<String>()
            ),
            email: format!("doctor{n}@fake-zoom.test"),
            account_id: "fzAccountOAuth".into(),
        };
        w.users.push(u.clone());
        u
    }

    fn basic_client(&self, req: &Request) -> Option<(String, String)> {
        let b = req.header("authorization")?.strip_prefix("Basic ")?;
        let raw = String::from_utf8(STANDARD.decode(b.trim()).ok()?).ok()?;
        let (id, secret) = raw.split_once(':')?;
        Some((id.to_string(), secret.to_string()))
    }

    /// A user-managed OAuth app's client id and secret, as the Basic header gave them.
    fn app_credentials_ok(&self, client_id: &str, secret: &str) -> bool {
        self.world()
            .apps
            .get(client_id)
            .is_some_and(|a| a.secret == secret)
    }

    fn issue(&self, t: Token, with_refresh: bool, scope: &str) -> Reply {
        let access = self.token("at");
        let mut w = self.world();
        w.access.insert(access.clone(), t.clone());
        let mut body = json!({
            "access_token": access, "token_type": "bearer", "expires_in": TOKEN_TTL,
            "scope": scope, "api_url": self.base,
        });
        if with_refresh {
            let refresh = self.token("rt");
            w.refresh.insert(refresh.clone(), t);
            body["refresh_token"] = json!(refresh);
        }
        Reply::json(200, &body)
    }

    fn token_endpoint(&self, req: &Request) -> Reply {
        let invalid_client = || {
            Reply::json(
                401,
                &json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
            )
        };
        let invalid_grant =
            |r: &str| Reply::json(400, &json!({"reason": r, "error": "invalid_grant"}));
        let Some((client_id, secret)) = self.basic_client(req) else {
            return invalid_client();
        };
        let mut params = req.query_map();
        params.extend(req.form_map());
        let now = self.now();
        let scope = "meeting:write:meeting meeting:update:meeting meeting:delete:meeting meeting:read:meeting user:read:user";
        match params.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                if !self.app_credentials_ok(&client_id, &secret) {
                    return invalid_client();
                }
                // Single use: the code is gone whether or not what follows succeeds.
                let Some(code) = params
                    .get("code")
                    .and_then(|c| self.world().codes.remove(c))
                else {
                    return invalid_grant("Invalid authorization code");
                };
                if code.client_id != client_id || now > code.expires_at {
                    return invalid_grant("Authorization code expired");
                }
                if params.get("redirect_uri") != Some(&code.redirect_uri) {
                    return Reply::json(
                        400,
                        &json!({"code": 4709, "reason": "Redirect URI mismatch.", "error": "invalid_request"}),
                    );
                }
                let verifier = params.get("code_verifier").cloned().unwrap_or_default();
                if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != code.challenge {
                    return invalid_grant("Invalid code_verifier");
                }
                let t = Token {
                    client_id,
                    user_id: Some(code.user_id),
                    account_id: "fzAccountOAuth".into(),
                    expires_at: now + TOKEN_TTL,
                };
                self.issue(t, true, scope)
            }
            Some("refresh_token") => {
                if !self.app_credentials_ok(&client_id, &secret) {
                    return invalid_client();
                }
                // Rotation: the old refresh token dies at once.
                let Some(mut t) = params
                    .get("refresh_token")
                    .and_then(|r| self.world().refresh.remove(r))
                else {
                    return invalid_grant("Invalid Token!");
                };
                if t.client_id != client_id {
                    return invalid_grant("Invalid Token!");
                }
                t.expires_at = now + TOKEN_TTL;
                self.issue(t, true, scope)
            }
            Some("account_credentials") => {
                let Some(app) = self.world().s2s.get(&client_id).cloned() else {
                    return invalid_client();
                };
                if app.secret != secret {
                    return invalid_client();
                }
                if params.get("account_id") != Some(&app.account_id) {
                    return Reply::json(
                        400,
                        &json!({"reason": "Invalid account_id", "error": "invalid_request"}),
                    );
                }
                let t = Token {
                    client_id,
                    user_id: None,
                    account_id: app.account_id,
                    expires_at: now + TOKEN_TTL,
                };
                self.issue(
                    t,
                    false,
                    "meeting:write:meeting:admin meeting:read:meeting:admin user:read:user:admin",
                )
            }
            _ => Reply::json(
                400,
                &json!({"code": 4705, "reason": "Unsupported grant type", "error": "unsupported_grant_type"}),
            ),
        }
    }

    fn revoke(&self, req: &Request) -> Reply {
        let Some((client_id, secret)) = self.basic_client(req) else {
            return Reply::json(
                401,
                &json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
            );
        };
        let known = self.app_credentials_ok(&client_id, &secret);
        if !known {
            return Reply::json(
                401,
                &json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
            );
        }
        let mut params = req.query_map();
        params.extend(req.form_map());
        let token = params.get("token").cloned().unwrap_or_default();
        let mut w = self.world();
        // Revoking either token ends the whole grant for that user.
        let user = w
            .access
            .get(&token)
            .or_else(|| w.refresh.get(&token))
            .and_then(|t| t.user_id.clone());
        if let Some(user) = user {
            w.access
                .retain(|_, t| t.user_id.as_ref() != Some(&user) || t.client_id != client_id);
            w.refresh
                .retain(|_, t| t.user_id.as_ref() != Some(&user) || t.client_id != client_id);
        }
        Reply::json(200, &json!({"status": "success"}))
    }

    // ---- API -----------------------------------------------------------------------------

    fn with_token(
        &self,
        req: &Request,
        fault: Option<&str>,
        f: impl FnOnce(&Token) -> Reply,
    ) -> Reply {
        let bearer = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("")
            .trim()
            .to_string();
        if fault == Some("expire_token") {
            if let Some(t) = self.world().access.get_mut(&bearer) {
                t.expires_at = 0;
            }
        }
        let now = self.now();
        let token = self.world().access.get(&bearer).cloned();
        match token {
            Some(t) if t.expires_at > now => f(&t),
            _ => zoom_error(401, 124, "Invalid access token."),
        }
    }

    /// The user a path names, as this token may see it.
    fn resolve_user(&self, t: &Token, who: &str) -> Result<User, Reply> {
        let w = self.world();
        let found = if who == "me" {
            t.user_id
                .as_ref()
                .and_then(|id| w.users.iter().find(|u| &u.id == id))
        } else {
            w.users.iter().find(|u| {
                (u.id == who || u.email.eq_ignore_ascii_case(who)) && u.account_id == t.account_id
            })
        };
        match found {
            // A user-level token sees only its own user.
            Some(u) if t.user_id.as_ref().is_none_or(|id| id == &u.id) => Ok(u.clone()),
            _ => Err(zoom_error(
                404,
                1001,
                &format!("User does not exist: {who}."),
            )),
        }
    }

    fn get_user(&self, t: &Token, who: &str) -> Reply {
        match self.resolve_user(t, who) {
            Ok(u) => Reply::json(
                200,
                &json!({
                    "id": u.id, "email": u.email, "account_id": u.account_id,
                    "first_name": "Fake", "last_name": "Doctor", "type": 2, "status": "active",
                }),
            ),
            Err(r) => r,
        }
    }

    fn validate(&self, method: &str, path: &str, body: &Value) -> Option<Reply> {
        let problems = match self.spec.validate_request(method, path, body) {
            Ok(p) => p,
            Err(e) => return Some(zoom_error(400, 300, &e)),
        };
        if problems.is_empty() {
            return None;
        }
        self.world().invalid_bodies += 1;
        let errors: Vec<Value> = problems
            .iter()
            .map(|p| json!({"field": p.path.trim_start_matches('/').replace('/', "."), "message": p.message}))
            .collect();
        Some(Reply::json(
            400,
            &json!({"code": 300, "message": "Validation Failed.", "errors": errors}),
        ))
    }

    /// The request's JSON body, valid against Zoom's schema for this method and path.
    fn checked_body(&self, req: &Request) -> Result<Value, Reply> {
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            self.world().invalid_bodies += 1;
            return Err(zoom_error(
                400,
                300,
                "Request Body should be a valid JSON object.",
            ));
        };
        match self.validate(&req.method, req.path.trim_start_matches("/v2"), &body) {
            Some(r) => Err(r),
            None => Ok(body),
        }
    }

    fn count_daily(&self, host: &str) -> Result<(), Reply> {
        let day = self.now().div_euclid(86_400);
        let mut w = self.world();
        let cap = w.daily_cap;
        let n = w.daily.entry((host.to_string(), day)).or_default();
        if *n >= cap {
            return Err(zoom_error(429, 429, "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.")
                .with_header("Retry-After", &utc((day + 1) * 86_400)));
        }
        *n += 1;
        Ok(())
    }

    fn create(&self, t: &Token, who: &str, req: &Request, drop: bool) -> Reply {
        if t.user_id.is_none() && who == "me" {
            // Server-to-Server apps must name the host.
            return zoom_error(404, 1001, "User does not exist: me.");
        }
        let host = match self.resolve_user(t, who) {
            Ok(u) => u,
            Err(r) => return r,
        };
        let body = match self.checked_body(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        if let Err(r) = self.count_daily(&host.id) {
            return r;
        }
        let id = 85_000_000_000 + self.seq.fetch_add(1, Ordering::Relaxed);
        let pwd = body
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let meeting = json!({
            "uuid": URL_SAFE_NO_PAD.encode(Sha256::digest(id.to_string().as_bytes()))[..22].to_string() + "==",
            "id": id,
            "host_id": host.id,
            "host_email": host.email,
            "topic": body.get("topic").cloned().unwrap_or(json!("Zoom Meeting")),
            "type": body.get("type").cloned().unwrap_or(json!(2)),
            "status": "waiting",
            "start_time": body.get("start_time").cloned().unwrap_or(Value::Null),
            "duration": body.get("duration").cloned().unwrap_or(json!(60)),
            "timezone": body.get("timezone").cloned().unwrap_or(json!("UTC")),
            "agenda": body.get("agenda").cloned().unwrap_or(json!("")),
            "created_at": utc(self.now()),
            "password": pwd,
            "h323_password": "123456",
            "join_url": format!("{}/j/{id}?pwd={}", self.base, URL_SAFE_NO_PAD.encode(pwd.as_bytes())),
            "settings": body.get("settings").cloned().unwrap_or(json!({})),
            "pre_schedule": false,
        });
        self.world().meetings.insert(id, meeting.clone());
        if drop {
            return Reply::Drop;
        }
        let mut out = meeting;
        out["start_url"] = json!(self.start_url(id));
        Reply::json(201, &out)
    }

    /// A new host link every time: Zoom's `start_url` carries a short-lived credential.
    fn start_url(&self, id: u64) -> String {
        format!("{}/s/{id}?zak={}", self.base, self.token("zak"))
    }

    fn owned_meeting(&self, t: &Token, id: &str) -> Result<(u64, Value), Reply> {
        let gone = || zoom_error(404, 3001, &format!("Meeting does not exist: {id}."));
        let id: u64 = id.parse().map_err(|_| gone())?;
        let w = self.world();
        let m = w.meetings.get(&id).cloned().ok_or_else(gone)?;
        let host = m["host_id"].as_str().unwrap_or("");
        let visible = match &t.user_id {
            Some(u) => u == host,
            None => w
                .users
                .iter()
                .any(|u| u.id == host && u.account_id == t.account_id),
        };
        if visible {
            Ok((id, m))
        } else {
            Err(gone())
        }
    }

    fn get_meeting(&self, t: &Token, id: &str) -> Reply {
        match self.owned_meeting(t, id) {
            Ok((id, mut m)) => {
                m["start_url"] = json!(self.start_url(id));
                Reply::json(200, &m)
            }
            Err(r) => r,
        }
    }

    fn update(&self, t: &Token, id: &str, req: &Request) -> Reply {
        let (id, m) = match self.owned_meeting(t, id) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let body = match self.checked_body(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        if let Err(r) = self.count_daily(m["host_id"].as_str().unwrap_or("")) {
            return r;
        }
        let mut w = self.world();
        if let (Some(stored), Some(changes)) = (w.meetings.get_mut(&id), body.as_object()) {
            for (k, v) in changes {
                stored[k] = v.clone();
            }
        }
        Reply::empty(204)
    }

    /// `POST /meetings/{id}/registrants`: only for a meeting made with registration on
    /// (`approval_type` 0 or 1), as Zoom; the answer carries the personal join link.
    fn add_registrant(&self, t: &Token, id: &str, req: &Request) -> Reply {
        let (id, m) = match self.owned_meeting(t, id) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let body = match self.checked_body(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        if m["settings"]["approval_type"].as_i64().unwrap_or(2) == 2 {
            return zoom_error(400, 3000, "Cannot register for this meeting.");
        }
        let registrant_id = self.token("reg");
        let join_url = format!("{}/w/{id}?tk={}", self.base, self.token("tk"));
        let mut w = self.world();
        if let Some(stored) = w.meetings.get_mut(&id) {
            let list = stored
                .as_object_mut()
                .map(|o| o.entry("registrants").or_insert(json!([])));
            if let Some(Value::Array(list)) = list {
                list.push(json!({"registrant_id": registrant_id, "email": body["email"], "join_url": join_url}));
            }
        }
        Reply::json(
            201,
            &json!({"id": id, "join_url": join_url, "registrant_id": registrant_id,
                "start_time": m["start_time"], "topic": m["topic"]}),
        )
    }

    fn delete(&self, t: &Token, id: &str) -> Reply {
        match self.owned_meeting(t, id) {
            Ok((id, _)) => {
                self.world().meetings.remove(&id);
                Reply::empty(204)
            }
            Err(r) => r,
        }
    }

    /// `GET /users/{who}/meetings`: `type` as Zoom documents it (`upcoming` leaves out
    /// meetings whose start has passed, `scheduled` keeps them), pages of `page_size` (at
    /// most 300, and at most the admin's `page-size`), `next_page_token` to go on.
    fn list(&self, t: &Token, who: &str, req: &Request) -> Reply {
        let host = match self.resolve_user(t, who) {
            Ok(u) => u,
            Err(r) => return r,
        };
        let q = req.query_map();
        let kind = q.get("type").map(String::as_str).unwrap_or("scheduled");
        let now = self.now();
        let upcoming_only = match kind {
            "scheduled" | "live" => false,
            "upcoming" | "upcoming_meetings" => true,
            "previous_meetings" => false,
            _ => return zoom_error(400, 300, "Invalid field: type."),
        };
        let w = self.world();
        let page_size = q
            .get("page_size")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, 300)
            .min(w.list_page_size.max(1));
        let from: usize = match q.get("next_page_token").filter(|t| !t.is_empty()) {
            Some(tok) => match tok.strip_prefix("fzpage").and_then(|n| n.parse().ok()) {
                Some(n) => n,
                None => return zoom_error(400, 300, "Invalid next_page_token."),
            },
            None => 0,
        };
        let all: Vec<Value> = w
            .meetings
            .values()
            .filter(|m| m["host_id"] == host.id)
            .filter(|m| {
                !upcoming_only
                    || m["start_time"]
                        .as_str()
                        .and_then(parse_utc)
                        .is_none_or(|start| {
                            start + 60 * m["duration"].as_i64().unwrap_or(60) >= now
                        })
            })
            .map(|m| {
                let keys = [
                    "uuid",
                    "id",
                    "host_id",
                    "topic",
                    "type",
                    "start_time",
                    "duration",
                    "timezone",
                    "created_at",
                    "join_url",
                ];
                Value::Object(
                    keys.iter()
                        .filter_map(|k| m.get(*k).map(|v| (k.to_string(), v.clone())))
                        .collect(),
                )
            })
            .collect();
        let total = all.len();
        let page: Vec<Value> = all.into_iter().skip(from).take(page_size).collect();
        let next = if from + page_size < total {
            format!("fzpage{}", from + page_size)
        } else {
            String::new()
        };
        Reply::json(
            200,
            &json!({
                "page_size": page_size, "total_records": total, "next_page_token": next, "meetings": page,
            }),
        )
    }

    // ---- admin ---------------------------------------------------------------------------

    /// `POST app` {client_id, client_secret, redirect_uri}; `POST s2s` {client_id,
    /// client_secret, account_id, users:[{id,email}]}; `POST consent-as` {email};
    /// `POST fault` {kind, count?, path_prefix?, retry_after?: seconds|"date"|"absent",
    /// latency_ms?}; `POST clear-faults`; `POST clock` {advance}; `POST daily-cap` {cap};
    /// `POST page-size` {size}; `GET stats`;
    /// `GET requests?n=`; `POST reset`; `POST webhook` {url, secret, event, payload?,
    /// timestamp?, event_ts?} (answers with what it sent, headers included).
    fn admin(&self, what: &str, req: &Request) -> Reply {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
        let s = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let ok = || Reply::json(200, &json!({"ok": true}));
        match (req.method.as_str(), what) {
            ("POST", "app") => {
                self.world().apps.insert(
                    s("client_id"),
                    App {
                        secret: s("client_secret"),
                        redirect_uri: s("redirect_uri"),
                    },
                );
                ok()
            }
            ("POST", "s2s") => {
                let mut w = self.world();
                let account_id = s("account_id");
                w.s2s.insert(
                    s("client_id"),
                    S2sApp {
                        secret: s("client_secret"),
                        account_id: account_id.clone(),
                    },
                );
                for u in body
                    .get("users")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    let id = u["id"].as_str().unwrap_or("").to_string();
                    let email = u["email"].as_str().unwrap_or("").to_string();
                    w.users.retain(|x| x.id != id);
                    w.users.push(User {
                        id,
                        email,
                        account_id: account_id.clone(),
                    });
                }
                ok()
            }
            ("POST", "consent-as") => {
                let email = s("email");
                let mut w = self.world();
                if !w.users.iter().any(|u| u.email == email) {
                    let n = w.users.len() + 1;
                    w.users.push(User {
                        id: format!("fzUser{n:04}named"),
                        email: email.clone(),
                        account_id: "fzAccountOAuth".into(),
                    });
                }
                w.consent_as = Some(email);
                ok()
            }
            ("POST", "fault") => {
                let f = Fault {
                    kind: s("kind"),
                    remaining: body.get("count").and_then(Value::as_u64).unwrap_or(1) as u32,
                    path_prefix: s("path_prefix"),
                    retry_after: body
                        .get("retry_after")
                        .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
                        .unwrap_or_default(),
                    latency_ms: body.get("latency_ms").and_then(Value::as_u64).unwrap_or(0),
                };
                let known = [
                    "rate_limit",
                    "daily_cap",
                    "server_error",
                    "latency",
                    "expire_token",
                    "drop_after_create",
                ];
                if !known.contains(&f.kind.as_str()) {
                    return Reply::json(
                        400,
                        &json!({"error": format!("unknown fault; one of {known:?}")}),
                    );
                }
                self.world().faults.push(f);
                ok()
            }
            ("POST", "clock") => {
                self.world().clock_offset +=
                    body.get("advance").and_then(Value::as_i64).unwrap_or(0);
                ok()
            }
            ("POST", "clear-faults") => {
                self.world().faults.clear();
                ok()
            }
            ("POST", "page-size") => {
                self.world().list_page_size =
                    body.get("size").and_then(Value::as_u64).unwrap_or(300) as usize;
                ok()
            }
            ("POST", "daily-cap") => {
                self.world().daily_cap =
                    body.get("cap").and_then(Value::as_u64).unwrap_or(100) as u32;
                ok()
            }
            ("GET", "stats") => {
                let w = self.world();
                Reply::json(
                    200,
                    &json!({
                        "calls": w.calls, "invalid_bodies": w.invalid_bodies, "meetings": w.meetings.len(),
                        "access_tokens": w.access.len(), "refresh_tokens": w.refresh.len(), "now": now_real() + w.clock_offset,
                    }),
                )
            }
            ("GET", "requests") => {
                let n = req
                    .query_map()
                    .get("n")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(20usize);
                let w = self.world();
                let items: Vec<&Value> = w.log.iter().rev().take(n).collect();
                Reply::json(200, &json!({"requests": items}))
            }
            ("GET", "meetings") => {
                let w = self.world();
                Reply::json(
                    200,
                    &json!({"meetings": w.meetings.values().collect::<Vec<_>>()}),
                )
            }
            ("POST", "reset") => {
                *self.world() = World {
                    daily_cap: 100,
                    list_page_size: 300,
                    ..Default::default()
                };
                ok()
            }
            ("POST", "webhook") => self.send_webhook(&body),
            _ => Reply::json(404, &json!({"error": "unknown admin endpoint"})),
        }
    }

    fn send_webhook(&self, body: &Value) -> Reply {
        let url = body["url"].as_str().unwrap_or("");
        let secret = body["secret"].as_str().unwrap_or("");
        let event = body["event"].as_str().unwrap_or("");
        let plain = if event == "endpoint.url_validation" {
            Some(self.token("plain"))
        } else {
            None
        };
        let payload = match &plain {
            Some(p) => json!({"plainToken": p}),
            None => body.get("payload").cloned().unwrap_or(json!({})),
        };
        let now = self.now();
        let event_ts = body
            .get("event_ts")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| {
                // Zoom's event_ts has millisecond precision.
                let ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.subsec_millis() as i64)
                    .unwrap_or(0);
                now * 1000 + ms
            });
        let raw = json!({"event": event, "payload": payload, "event_ts": event_ts}).to_string();
        let ts = body
            .get("timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(now)
            .to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("v0:{ts}:{raw}").as_bytes());
        let sig = format!("v0={}", hex(&mac.finalize().into_bytes()));
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("x-zm-signature".to_string(), sig),
            ("x-zm-request-timestamp".to_string(), ts),
            ("x-zm-request-id".to_string(), self.token("req")),
        ];
        match http::send("POST", url, &headers, raw.as_bytes()).map(|a| (a.status, a.body)) {
            Ok((status, answer)) => {
                // What was sent, headers included, so a test can replay the delivery exactly.
                let sent_headers: serde_json::Map<String, Value> =
                    headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                let mut out =
                    json!({"status": status, "body": answer, "sent": raw, "headers": sent_headers});
                if let Some(p) = plain {
                    let mut m =
                        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
                    m.update(p.as_bytes());
                    let expected = hex(&m.finalize().into_bytes());
                    let got: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
                    out["validated"] = json!(
                        got["plainToken"] == json!(p) && got["encryptedToken"] == json!(expected)
                    );
                }
                Reply::json(200, &out)
            }
            Err(e) => Reply::json(502, &json!({"error": e})),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Binds, and serves in a background thread. Returns the base URL.
pub fn start(addr: &str, spec: Spec) -> std::io::Result<(String, Arc<FakeZoom>)> {
    let listener = std::net::TcpListener::bind(addr)?;
    let base = format!("http://{}", listener.local_addr()?);
    let fz = FakeZoom::new(&base, spec);
    let h = fz.clone();
    std::thread::spawn(move || http::serve(listener, Arc::new(move |r| h.handle(r))));
    Ok((base, fz))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_parses_back() {
        for t in [0, 951_825_605, 1_767_261_600, 4_102_444_799] {
            assert_eq!(super::parse_utc(&super::utc(t)), Some(t));
        }
    }

    #[test]
    fn utc_formats_civil_time() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(1_767_261_600), "2026-01-01T10:00:00Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
