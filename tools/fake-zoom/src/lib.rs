//! A strict fake Zoom for tests and the demo (see ZOOM-FACTS.md): OAuth with PKCE and
//! rotating refresh tokens, Server-to-Server tokens, the Meeting API with every request body
//! validated against Zoom's own OpenAPI export, injectable faults, observability, and a
//! webhook sender that signs exactly as Zoom does.
//!
//! By concern: `oauth` (authorize, tokens, revoke), `meetings` (the Meeting API), `faults`,
//! `webhooks` (signed deliveries) and `admin` (the test-only endpoints under `/__admin/`, JSON
//! in and out). This file holds the shared state and the routing.

pub mod http;

mod admin;
mod faults;
mod meetings;
mod oauth;
mod webhooks;

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
    /// The scopes a user's consent grants it.
    scope: String,
}

#[derive(Clone)]
struct S2sApp {
    secret: String,
    account_id: String,
    /// The scopes its tokens carry (an app set up without some of them).
    scope: String,
}

/// What a fully set-up app is granted: every granular scope of the calls the addon makes
/// (`:admin` for Server-to-Server).
pub(crate) const USER_SCOPES: &str = "meeting:write:meeting meeting:update:meeting meeting:delete:meeting meeting:read:meeting meeting:read:list_meetings user:read:user meeting:write:registrant";
pub(crate) const ADMIN_SCOPES: &str = "meeting:write:meeting:admin meeting:update:meeting:admin meeting:delete:meeting:admin meeting:read:meeting:admin meeting:read:list_meetings:admin user:read:user:admin meeting:write:registrant:admin";

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
    /// The scopes it was issued with (set when issued): a call needs its own.
    scope: String,
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
    /// A new meeting's `settings` before the request's own (see `meetings::answer_settings`).
    answer_settings: serde_json::Map<String, Value>,
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
    /// `Err` if Zoom's spec lacks what the fake answers from (a created meeting's settings).
    pub fn new(base: &str, spec: Spec) -> Result<Arc<Self>, String> {
        Ok(Arc::new(Self {
            base: base.trim_end_matches('/').to_string(),
            answer_settings: meetings::answer_settings(&spec)?,
            spec,
            world: Mutex::new(World {
                daily_cap: 100,
                list_page_size: 300,
                ..Default::default()
            }),
            seq: AtomicU64::new(1),
        }))
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
            // An app without the call's scope (ZOOM-FACTS: 400/4711).
            Some("scope_missing") => {
                zoom_error(400, 4711, "Invalid access token, does not contain scopes.")
            }
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

    fn route(&self, req: &Request, fault: Option<&str>) -> Reply {
        let seg: Vec<&str> = req.path.trim_matches('/').split('/').collect();
        match (req.method.as_str(), seg.as_slice()) {
            ("GET", ["oauth", "authorize"]) => self.authorize(req),
            ("POST", ["oauth", "token"]) => self.token_endpoint(req),
            ("POST", ["oauth", "revoke"]) => self.revoke(req),
            ("GET", ["v2", "users", who]) => {
                self.with_token(req, fault, "user:read:user", |t| self.get_user(t, who))
            }
            ("POST", ["v2", "users", who, "meetings"]) => {
                self.with_token(req, fault, "meeting:write:meeting", |t| {
                    self.create(t, who, req, fault == Some("drop_after_create"))
                })
            }
            ("GET", ["v2", "users", who, "meetings"]) => {
                self.with_token(req, fault, "meeting:read:list_meetings", |t| {
                    self.list(t, who, req)
                })
            }
            ("GET", ["v2", "meetings", id]) => {
                self.with_token(req, fault, "meeting:read:meeting", |t| {
                    self.get_meeting(t, id)
                })
            }
            ("PATCH", ["v2", "meetings", id]) => {
                self.with_token(req, fault, "meeting:update:meeting", |t| {
                    self.update(t, id, req)
                })
            }
            ("DELETE", ["v2", "meetings", id]) => {
                self.with_token(req, fault, "meeting:delete:meeting", |t| self.delete(t, id))
            }
            ("POST", ["v2", "meetings", id, "registrants"]) => {
                self.with_token(req, fault, "meeting:write:registrant", |t| {
                    self.add_registrant(t, id, req)
                })
            }
            _ => zoom_error(404, 404, "No such endpoint in the fake Zoom."),
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
    let fz = FakeZoom::new(&base, spec).map_err(std::io::Error::other)?;
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
