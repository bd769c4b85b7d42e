//! The fake Zoom's own tests: each documented behaviour it enforces, and each fault.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use fake_zoom::http::{send, Answer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const CLIENT: &str = "fzClientId01";
const SECRET: &str = "fzClientSecret0123456789";
const REDIRECT: &str = "http://127.0.0.1:1/wp-json/kivicare/v1/settings/zoom-telemed/callback";

struct Zoom {
    base: String,
}

fn zoom() -> Zoom {
    // Test data the fake cannot validate without: missing, the test fails (never skips).
    let spec = zoom_spec::Spec::from_default_location()
        .unwrap_or_else(|e| panic!("Zoom's spec is missing: {e}"));
    let (base, _) = fake_zoom::start("127.0.0.1:0", spec).unwrap();
    let z = Zoom { base };
    z.admin(
        "app",
        json!({"client_id": CLIENT, "client_secret": SECRET, "redirect_uri": REDIRECT}),
    );
    z
}

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Zoom {
    fn admin(&self, what: &str, body: Value) -> Value {
        send(
            "POST",
            &format!("{}/__admin/{what}", self.base),
            &[],
            body.to_string().as_bytes(),
        )
        .unwrap()
        .json()
    }

    fn stats(&self) -> Value {
        send("GET", &format!("{}/__admin/stats", self.base), &[], b"")
            .unwrap()
            .json()
    }

    fn basic(&self) -> Vec<(String, String)> {
        h(&[
            (
                "Authorization",
                &format!("Basic {}", STANDARD.encode(format!("{CLIENT}:{SECRET}"))),
            ),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ])
    }

    fn token_call(&self, form: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        send(
            "POST",
            &format!("{}/oauth/token", self.base),
            &self.basic(),
            body.as_bytes(),
        )
        .unwrap()
    }

    fn authorize(&self, verifier: &str, method: Option<&str>) -> Answer {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", CLIENT)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", "st.ate")
            .append_pair("code_challenge", &challenge);
        if let Some(m) = method {
            q.append_pair("code_challenge_method", m);
        }
        send(
            "GET",
            &format!("{}/oauth/authorize?{}", self.base, q.finish()),
            &[],
            b"",
        )
        .unwrap()
    }

    fn code(&self, verifier: &str) -> String {
        let a = self.authorize(verifier, Some("S256"));
        assert_eq!(a.status, 302, "{}", a.body);
        let loc = a.header("location").unwrap().to_string();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        let q: HashMap<String, String> =
            form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
                .into_owned()
                .collect();
        assert_eq!(q["state"], "st.ate");
        q["code"].clone()
    }

    fn connect(&self) -> Value {
        let v = "a".repeat(43);
        let code = self.code(&v);
        let t = self.token_call(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &v),
        ]);
        assert_eq!(t.status, 200, "{}", t.body);
        t.json()
    }

    fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Answer {
        let mut hs = h(&[("Authorization", &format!("Bearer {token}"))]);
        if body.is_some() {
            hs.push(("Content-Type".into(), "application/json".into()));
        }
        let b = body.map(|b| b.to_string()).unwrap_or_default();
        send(
            method,
            &format!("{}/v2{path}", self.base),
            &hs,
            b.as_bytes(),
        )
        .unwrap()
    }
}

fn meeting() -> Value {
    json!({"topic": "Telemedicine consultation kc-00000000000000000001", "type": 2, "start_time": "2026-01-01T10:00:00Z",
        "duration": 30, "timezone": "Asia/Kolkata", "password": "Ab3dE5gH7j",
        "settings": {"waiting_room": true, "join_before_host": false}})
}

#[test]
fn pkce_is_required_and_checked() {
    let z = zoom();
    assert_eq!(
        z.authorize("v", None).status,
        400,
        "a missing method defaults to plain at Zoom: refused"
    );
    assert_eq!(z.authorize("v", Some("plain")).status, 400);
    let good = "b".repeat(43);
    let code = z.code(&good);
    let wrong = z.token_call(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &"c".repeat(43)),
    ]);
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["error"], "invalid_grant");
}

#[test]
fn redirect_uri_must_match_byte_for_byte() {
    let z = zoom();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(b"x"));
    let url = format!("{}/oauth/authorize?response_type=code&client_id={CLIENT}&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256",
        z.base, form_urlencoded::byte_serialize(format!("{REDIRECT}/").as_bytes()).collect::<String>());
    let a = send("GET", &url, &[], b"").unwrap();
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["code"], 4709);
}

#[test]
fn codes_are_single_use_and_live_five_minutes() {
    let z = zoom();
    let v = "d".repeat(43);
    let code = z.code(&v);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", v.as_str()),
    ];
    assert_eq!(z.token_call(&form).status, 200);
    assert_eq!(z.token_call(&form).status, 400, "second use");
    let late = z.code(&v);
    z.admin("clock", json!({"advance": 301}));
    let t = z.token_call(&[
        ("grant_type", "authorization_code"),
        ("code", &late),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &v),
    ]);
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["error"], "invalid_grant");
}

#[test]
fn refresh_tokens_rotate_and_the_old_one_dies() {
    let z = zoom();
    let t = z.connect();
    assert!(t["expires_in"].as_i64().unwrap() >= 3599);
    assert_eq!(t["api_url"], z.base);
    let r1 = t["refresh_token"].as_str().unwrap();
    let n = z.token_call(&[("grant_type", "refresh_token"), ("refresh_token", r1)]);
    assert_eq!(n.status, 200);
    let r2 = n.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let again = z.token_call(&[("grant_type", "refresh_token"), ("refresh_token", r1)]);
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json(),
        json!({"reason": "Invalid Token!", "error": "invalid_grant"})
    );
    assert_eq!(
        z.token_call(&[("grant_type", "refresh_token"), ("refresh_token", &r2)])
            .status,
        200
    );
}

#[test]
fn basic_auth_is_checked() {
    let z = zoom();
    let bad = h(&[(
        "Authorization",
        &format!("Basic {}", STANDARD.encode(format!("{CLIENT}:wrong"))),
    )]);
    let a = send(
        "POST",
        &format!(
            "{}/oauth/token?grant_type=refresh_token&refresh_token=x",
            z.base
        ),
        &bad,
        b"",
    )
    .unwrap();
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"], "invalid_client");
}

#[test]
fn server_to_server_tokens_and_named_hosts() {
    let z = zoom();
    z.admin("s2s", json!({"client_id": "fzS2sClient1", "client_secret": "fzS2sSecret0123456789", "account_id": "fzAccount01",
        "users": [{"id": "fzHostUser0001", "email": "dr.rao@clinic.example"}]}));
    let basic = h(&[(
        "Authorization",
        &format!(
            "Basic {}",
            STANDARD.encode("fzS2sClient1:fzS2sSecret0123456789")
        ),
    )]);
    let a = send(
        "POST",
        &format!(
            "{}/oauth/token?grant_type=account_credentials&account_id=fzAccount01",
            z.base
        ),
        &basic,
        b"",
    )
    .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    let tok = a.json();
    assert!(tok.get("refresh_token").is_none());
    assert!(
        tok["scope"]
            .as_str()
            .unwrap()
            .contains("meeting:read:list_meetings:admin"),
        "a fully set-up app"
    );
    let at = tok["access_token"].as_str().unwrap();
    assert_eq!(
        z.api("POST", "/users/me/meetings", at, Some(meeting()))
            .json()["code"],
        1001,
        "S2S cannot use me"
    );
    let m = z.api(
        "POST",
        "/users/dr.rao@clinic.example/meetings",
        at,
        Some(meeting()),
    );
    assert_eq!(m.status, 201, "{}", m.body);
    assert_eq!(m.json()["host_email"], "dr.rao@clinic.example");
    assert_eq!(
        z.api("POST", "/users/nobody@x.org/meetings", at, Some(meeting()))
            .json()["code"],
        1001
    );
}

#[test]
fn an_app_set_up_without_some_scopes_gets_tokens_that_say_so() {
    let z = zoom();
    z.admin("s2s", json!({"client_id": "fzS2sClient2", "client_secret": "fzS2sSecret0123456789", "account_id": "fzAccount02",
        "scopes": "meeting:write:meeting:admin"}));
    let basic = h(&[(
        "Authorization",
        &format!(
            "Basic {}",
            STANDARD.encode("fzS2sClient2:fzS2sSecret0123456789")
        ),
    )]);
    let url = format!(
        "{}/oauth/token?grant_type=account_credentials&account_id=fzAccount02",
        z.base
    );
    let tok = send("POST", &url, &basic, b"").unwrap().json();
    assert_eq!(tok["scope"], "meeting:write:meeting:admin");
    // A call outside its scopes is refused as Zoom does (400/4711), naming the scope.
    let at = tok["access_token"].as_str().unwrap();
    let r = z.api("GET", "/users/someone@x.org", at, None);
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!(4711)));
    assert!(r.body.contains("user:read:user:admin"), "{}", r.body);
}

#[test]
fn bearer_tokens_are_checked() {
    let z = zoom();
    let unknown = z.api("GET", "/users/me", "nope", None);
    assert_eq!(
        (unknown.status, unknown.json()["code"].clone()),
        (401, json!(124))
    );
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    assert_eq!(z.api("GET", "/users/me", &at, None).status, 200);
    z.admin("clock", json!({"advance": 3600}));
    assert_eq!(
        z.api("GET", "/users/me", &at, None).json()["code"],
        124,
        "expired"
    );
}

#[test]
fn meetings_lifecycle_with_fresh_start_urls() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    let created = z.api("POST", "/users/me/meetings", &at, Some(meeting()));
    assert_eq!(created.status, 201, "{}", created.body);
    let m = created.json();
    let id = m["id"].as_u64().unwrap();
    assert!(id > u32::MAX as u64, "ids exceed 32 bits like Zoom's");
    let s1 = z.api("GET", &format!("/meetings/{id}"), &at, None).json()["start_url"].clone();
    let s2 = z.api("GET", &format!("/meetings/{id}"), &at, None).json()["start_url"].clone();
    assert_ne!(s1, s2, "a fresh start_url each time");
    let patch = z.api(
        "PATCH",
        &format!("/meetings/{id}"),
        &at,
        Some(json!({"start_time": "2026-01-02T10:00:00Z", "duration": 45})),
    );
    assert_eq!((patch.status, patch.body.as_str()), (204, ""));
    assert_eq!(
        z.api("GET", &format!("/meetings/{id}"), &at, None).json()["duration"],
        45
    );
    // The meeting's start (2026-01-02) has passed: `scheduled` lists it, `upcoming` does not.
    let list = z
        .api("GET", "/users/me/meetings?type=scheduled", &at, None)
        .json();
    assert_eq!(list["meetings"][0]["id"], id);
    let upcoming = z
        .api("GET", "/users/me/meetings?type=upcoming", &at, None)
        .json();
    assert_eq!(upcoming["meetings"], json!([]));
    assert_eq!(
        z.api("GET", "/users/me/meetings?type=bogus", &at, None)
            .status,
        400
    );
    assert_eq!(
        z.api(
            "DELETE",
            &format!("/meetings/{id}?cancel_meeting_reminder=false"),
            &at,
            None
        )
        .status,
        204
    );
    let gone = z.api("GET", &format!("/meetings/{id}"), &at, None);
    assert_eq!(
        (gone.status, gone.json()["code"].clone()),
        (404, json!(3001))
    );
    // Another user's token cannot see the meeting.
    let m2 = z
        .api("POST", "/users/me/meetings", &at, Some(meeting()))
        .json()["id"]
        .clone();
    let other = z.connect()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        z.api("GET", &format!("/meetings/{m2}"), &other, None)
            .json()["code"],
        3001
    );
}

#[test]
fn answers_carry_every_setting_zoom_fills_in_and_an_update_keeps_the_unnamed_ones() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    let m = z
        .api("POST", "/users/me/meetings", &at, Some(meeting()))
        .json();
    let s = &m["settings"];
    // Sent: as sent.
    assert_eq!(
        (&s["waiting_room"], &s["join_before_host"]),
        (&json!(true), &json!(false))
    );
    // Omitted: the spec's default, or the careless account's value ZOOM-FACTS says Zoom takes.
    assert_eq!(
        (&s["approval_type"], &s["audio"]),
        (&json!(2), &json!("both"))
    );
    assert_eq!(
        s["auto_start_meeting_summary"], true,
        "the account's AI default"
    );
    assert!(s["global_dial_in_numbers"].as_array().unwrap().len() > 3);
    assert!(
        s.as_object().unwrap().len() >= 40,
        "as many settings as a real answer"
    );
    // A host credential as long as Zoom's (a signed token), not a short random word.
    let zak = m["start_url"]
        .as_str()
        .unwrap()
        .split("zak=")
        .nth(1)
        .unwrap();
    assert!(zak.len() > 200 && zak.split('.').count() == 3, "{zak}");

    let id = m["id"].as_u64().unwrap();
    let patch = json!({"settings": {"mute_upon_entry": true}});
    assert_eq!(
        z.api("PATCH", &format!("/meetings/{id}"), &at, Some(patch))
            .status,
        204
    );
    let s = z.api("GET", &format!("/meetings/{id}"), &at, None).json()["settings"].clone();
    assert_eq!(s["mute_upon_entry"], true);
    assert_eq!(
        (&s["waiting_room"], &s["approval_type"]),
        (&json!(true), &json!(2))
    );
}

#[test]
fn meeting_lists_come_in_pages() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    for _ in 0..5 {
        assert_eq!(
            z.api("POST", "/users/me/meetings", &at, Some(meeting()))
                .status,
            201
        );
    }
    z.admin("page-size", json!({"size": 2}));
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..5 {
        let page = z
            .api(
                "GET",
                &format!("/users/me/meetings?type=scheduled&page_size=300&next_page_token={token}"),
                &at,
                None,
            )
            .json();
        assert!(page["meetings"].as_array().unwrap().len() <= 2);
        assert_eq!(page["total_records"], 5);
        seen.extend(
            page["meetings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].clone()),
        );
        token = page["next_page_token"].as_str().unwrap().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 5, "every meeting once, across three pages");
    seen.dedup();
    assert_eq!(seen.len(), 5);
}

#[test]
fn bodies_are_validated_against_zooms_spec() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    let mut bad = meeting();
    bad["password"] = json!("12345678901");
    bad["settings"]["jbh_time"] = json!(7);
    bad["settings"]["waitingroom"] = json!(true);
    let a = z.api("POST", "/users/me/meetings", &at, Some(bad));
    assert_eq!(a.status, 400);
    let v = a.json();
    assert_eq!(v["code"], 300);
    let fields: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    for f in ["password", "settings.jbh_time", "settings.waitingroom"] {
        assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
    }
    assert_eq!(z.stats()["invalid_bodies"], 1);
    assert_eq!(z.stats()["meetings"], 0);
}

#[test]
fn faults_rate_limits_in_every_retry_after_form() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    z.admin("fault", json!({"kind": "rate_limit", "retry_after": "7"}));
    let a = z.api("GET", "/users/me", &at, None);
    assert_eq!((a.status, a.header("retry-after")), (429, Some("7")));
    z.admin(
        "fault",
        json!({"kind": "rate_limit", "retry_after": "date"}),
    );
    let a = z.api("GET", "/users/me", &at, None);
    assert!(a.header("retry-after").unwrap().ends_with('Z'));
    z.admin(
        "fault",
        json!({"kind": "rate_limit", "retry_after": "absent"}),
    );
    let a = z.api("GET", "/users/me", &at, None);
    assert_eq!((a.status, a.header("retry-after")), (429, None));
    z.admin(
        "fault",
        json!({"kind": "daily_cap", "retry_after": "date", "path_prefix": "/v2/users"}),
    );
    let a = z.api("POST", "/users/me/meetings", &at, Some(meeting()));
    assert_eq!(a.status, 429);
    assert!(a.json()["message"].as_str().unwrap().contains("daily"));
    assert!(a.header("retry-after").unwrap().ends_with("T00:00:00Z"));
    assert_eq!(
        z.api("GET", "/users/me", &at, None).status,
        200,
        "faults are used up"
    );
}

#[test]
fn the_daily_cap_counts_creates_and_updates_per_host() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    z.admin("daily-cap", json!({"cap": 2}));
    let id = z
        .api("POST", "/users/me/meetings", &at, Some(meeting()))
        .json()["id"]
        .clone();
    assert_eq!(
        z.api(
            "PATCH",
            &format!("/meetings/{id}"),
            &at,
            Some(json!({"duration": 20}))
        )
        .status,
        204
    );
    assert_eq!(
        z.api("POST", "/users/me/meetings", &at, Some(meeting()))
            .status,
        429
    );
}

#[test]
fn faults_server_error_latency_and_expiring_token() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    z.admin("fault", json!({"kind": "server_error"}));
    assert_eq!(z.api("GET", "/users/me", &at, None).status, 500);
    z.admin("fault", json!({"kind": "latency", "latency_ms": 300}));
    let t = std::time::Instant::now();
    assert_eq!(z.api("GET", "/users/me", &at, None).status, 200);
    assert!(t.elapsed().as_millis() >= 300);
    z.admin("fault", json!({"kind": "scope_missing"}));
    let r = z.api("GET", "/users/me", &at, None);
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!(4711)));
    z.admin("fault", json!({"kind": "expire_token"}));
    assert_eq!(z.api("GET", "/users/me", &at, None).json()["code"], 124);
    assert_eq!(
        z.api("GET", "/users/me", &at, None).json()["code"],
        124,
        "stays expired"
    );
}

#[test]
fn fault_drop_after_create_leaves_the_meeting_behind() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    z.admin(
        "fault",
        json!({"kind": "drop_after_create", "path_prefix": "/v2/users"}),
    );
    let hs = h(&[
        ("Authorization", &format!("Bearer {at}")),
        ("Content-Type", "application/json"),
    ]);
    let r = send(
        "POST",
        &format!("{}/v2/users/me/meetings", z.base),
        &hs,
        meeting().to_string().as_bytes(),
    );
    assert!(r.is_err(), "the connection closes without an answer");
    let list = z.api("GET", "/users/me/meetings", &at, None).json();
    assert_eq!(
        list["meetings"][0]["topic"],
        "Telemedicine consultation kc-00000000000000000001"
    );
}

#[test]
fn observability_counts_logs_and_resets() {
    let z = zoom();
    let at = z.connect()["access_token"].as_str().unwrap().to_string();
    z.api("GET", "/users/me", &at, None);
    z.api("GET", "/users/me", &at, None);
    let s = z.stats();
    assert_eq!(s["calls"]["users.get"], 2);
    assert_eq!(s["calls"]["oauth.token"], 1);
    let log = send("GET", &format!("{}/__admin/requests?n=2", z.base), &[], b"")
        .unwrap()
        .json();
    assert_eq!(log["requests"][0]["path"], "/v2/users/me");
    z.admin("reset", json!({}));
    assert_eq!(z.stats()["calls"], json!({}));
}

#[test]
fn webhooks_are_signed_as_zoom_signs_them() {
    let z = zoom();
    let seen: Arc<Mutex<Vec<fake_zoom::http::Request>>> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let s2 = seen.clone();
    std::thread::spawn(move || {
        fake_zoom::http::serve(
            listener,
            Arc::new(move |r| {
                s2.lock().unwrap().push(r.clone());
                let v: Value = serde_json::from_slice(&r.body).unwrap();
                if v["event"] == "endpoint.url_validation" {
                    let plain = v["payload"]["plainToken"].as_str().unwrap();
                    let mut m =
                        <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(b"whSecret").unwrap();
                    hmac::Mac::update(&mut m, plain.as_bytes());
                    let enc: String = hmac::Mac::finalize(m)
                        .into_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    return fake_zoom::http::Reply::json(
                        200,
                        &json!({"plainToken": plain, "encryptedToken": enc}),
                    );
                }
                fake_zoom::http::Reply::empty(204)
            }),
        )
    });
    let out = z.admin("webhook", json!({"url": url, "secret": "whSecret", "event": "meeting.started", "payload": {"object": {"id": 85000000001u64}}}));
    assert_eq!(out["status"], 204);
    let r = seen.lock().unwrap()[0].clone();
    let ts = r.header("x-zm-request-timestamp").unwrap();
    let mut m = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(b"whSecret").unwrap();
    hmac::Mac::update(&mut m, format!("v0:{ts}:{}", r.body_text()).as_bytes());
    let expected: String = hmac::Mac::finalize(m)
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        r.header("x-zm-signature").unwrap(),
        format!("v0={expected}")
    );
    let v = z.admin(
        "webhook",
        json!({"url": url, "secret": "whSecret", "event": "endpoint.url_validation"}),
    );
    assert_eq!(v["validated"], true);
}

#[test]
fn registrants_only_where_registration_is_on_and_with_their_own_link() {
    let z = zoom();
    let t = z.connect();
    let token = t["access_token"].as_str().unwrap();
    let plain = z.api("POST", "/users/me/meetings", token, Some(meeting()));
    assert_eq!(plain.status, 201, "{}", plain.body);
    let id = plain.json()["id"].as_u64().unwrap();
    let who = json!({"email": "pat@example.org", "first_name": "Pat"});
    let refused = z.api(
        "POST",
        &format!("/meetings/{id}/registrants"),
        token,
        Some(who.clone()),
    );
    assert_eq!(refused.status, 400, "registration is off: {}", refused.body);
    assert_eq!(refused.json()["code"], 3000);

    let mut m = meeting();
    m["settings"]["approval_type"] = json!(0);
    m["settings"]["registration_type"] = json!(1);
    let open = z.api("POST", "/users/me/meetings", token, Some(m));
    let id = open.json()["id"].as_u64().unwrap();
    let r = z.api(
        "POST",
        &format!("/meetings/{id}/registrants"),
        token,
        Some(who),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert!(v["registrant_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["join_url"]
        .as_str()
        .unwrap()
        .contains(&format!("/w/{id}?tk=")));
    // Zoom's schema: first_name is required.
    let bad = z.api(
        "POST",
        &format!("/meetings/{id}/registrants"),
        token,
        Some(json!({"email": "x@example.org"})),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
}
