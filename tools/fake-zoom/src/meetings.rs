//! The Meeting API: users, meetings (create, get, update, delete, list by page), registrants;
//! every request body validated against Zoom's OpenAPI export; the daily create-and-update cap.

use super::*;

/// What a created meeting's `settings` hold before the request's own, so an answer is as long
/// and as full as a real one: Zoom's documented defaults (the answer schema's); then, for what
/// ZOOM-FACTS says Zoom now takes from the host and the account when a request omits it, the
/// values of a careless account (no passcode, no waiting room, AI Companion on), so a setting
/// the addon forgets to send shows in the meeting; and the account's dial-in numbers.
pub(crate) fn answer_settings(spec: &Spec) -> Result<serde_json::Map<String, Value>, String> {
    let mut s =
        spec.answer_defaults("POST", "/users/me/meetings", "201", "/properties/settings")?;
    let host = json!({
        "waiting_room": false,
        "auto_start_meeting_summary": true,
        "auto_start_ai_companion_questions": true,
        "host_video": false,
        "participant_video": false,
        "enforce_login": false,
        "meeting_authentication": false,
        "private_meeting": false,
        "show_share_button": false,
        "allow_multiple_devices": false,
        "alternative_hosts": "",
        "encryption_type": "enhanced_encryption",
        "focus_mode": false,
        "host_save_video_order": false,
        "alternative_host_update_polls": false,
        "jbh_time": 0,
        "registrants_confirmation_email": true,
        "registrants_email_notification": true,
        "approved_or_denied_countries_or_regions": {"enable": false},
        "breakout_room": {"enable": false},
        "language_interpretation": {"enable": false},
        "sign_language_interpretation": {"enable": false},
        "continuous_meeting_chat": {"enable": false, "auto_add_invited_external_users": false},
        "global_dial_in_countries": ["US", "GB", "DE"],
        "global_dial_in_numbers": [
            {"country_name": "US", "city": "New York", "number": "+1 555 010 0101", "type": "toll", "country": "US"},
            {"country_name": "US", "city": "San Jose", "number": "+1 555 010 0102", "type": "toll", "country": "US"},
            {"country_name": "US", "number": "+1 555 010 0103", "type": "tollfree", "country": "US"},
            {"country_name": "United Kingdom", "city": "London", "number": "+44 20 7946 0104", "type": "toll", "country": "GB"},
            {"country_name": "United Kingdom", "number": "+44 808 157 0105", "type": "tollfree", "country": "GB"},
            {"country_name": "Germany", "city": "Frankfurt", "number": "+49 69 555 0106", "type": "toll", "country": "DE"},
        ],
    });
    if let Value::Object(host) = host {
        s.extend(host);
    }
    Ok(s)
}

impl FakeZoom {
    /// Runs `f` for a valid token that holds `need` (a user's granular scope; a
    /// Server-to-Server token needs it with `:admin`; a classic scope covers its granular
    /// ones): else 401/124, or 400/4711 for a missing scope (ZOOM-FACTS).
    pub(crate) fn with_token(
        &self,
        req: &Request,
        fault: Option<&str>,
        need: &str,
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
            Some(t) if t.expires_at > now => {
                let suffix = if t.user_id.is_none() { ":admin" } else { "" };
                let classic = need.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
                // meeting:update / delete / registrant are covered by the classic meeting:write.
                let classic = match classic.as_str() {
                    "meeting:update" | "meeting:delete" => "meeting:write".to_string(),
                    c => c.to_string(),
                };
                let has = |s: String| t.scope.split(' ').any(|g| g == s);
                if has(format!("{need}{suffix}")) || has(format!("{classic}{suffix}")) {
                    f(&t)
                } else {
                    zoom_error(
                        400,
                        4711,
                        &format!("Invalid access token, does not contain scopes:[{need}{suffix}]."),
                    )
                }
            }
            _ => zoom_error(401, 124, "Invalid access token."),
        }
    }

    /// The user a path names, as this token may see it.
    pub(crate) fn resolve_user(&self, t: &Token, who: &str) -> Result<User, Reply> {
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

    pub(crate) fn get_user(&self, t: &Token, who: &str) -> Reply {
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

    pub(crate) fn validate(&self, method: &str, path: &str, body: &Value) -> Option<Reply> {
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
    pub(crate) fn checked_body(&self, req: &Request) -> Result<Value, Reply> {
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

    pub(crate) fn count_daily(&self, host: &str) -> Result<(), Reply> {
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

    pub(crate) fn create(&self, t: &Token, who: &str, req: &Request, drop: bool) -> Reply {
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
        let mut meeting = json!({
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
            "settings": self.answer_settings.clone(),
            "pre_schedule": false,
        });
        merge_settings(&mut meeting, &body);
        self.world().meetings.insert(id, meeting.clone());
        if drop {
            return Reply::Drop;
        }
        let mut out = meeting;
        out["start_url"] = json!(self.start_url(id));
        Reply::json(201, &out)
    }

    /// A new host link every time: Zoom's `start_url` carries a short-lived credential, a
    /// signed token of a few hundred characters (JWT-shaped, as Zoom's `zak` is).
    pub(crate) fn start_url(&self, id: u64) -> String {
        let now = self.now();
        let claims = json!({"aud": "clientsm", "iss": "web", "sty": 100, "mnum": id.to_string(),
            "sk": self.token("sk"), "iat": now, "exp": now + 7200, "wcd": "fake", "clt": 0});
        let unsigned = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = URL_SAFE_NO_PAD.encode(Sha256::digest(unsigned.as_bytes()));
        format!("{}/s/{id}?zak={unsigned}.{sig}", self.base)
    }

    pub(crate) fn owned_meeting(&self, t: &Token, id: &str) -> Result<(u64, Value), Reply> {
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

    pub(crate) fn get_meeting(&self, t: &Token, id: &str) -> Reply {
        match self.owned_meeting(t, id) {
            Ok((id, mut m)) => {
                m["start_url"] = json!(self.start_url(id));
                Reply::json(200, &m)
            }
            Err(r) => r,
        }
    }

    /// The caller's meeting and the request's body, checked against Zoom's spec.
    fn owned_meeting_and_body(
        &self,
        t: &Token,
        id: &str,
        req: &Request,
    ) -> Result<(u64, Value, Value), Reply> {
        let (id, m) = self.owned_meeting(t, id)?;
        Ok((id, m, self.checked_body(req)?))
    }

    pub(crate) fn update(&self, t: &Token, id: &str, req: &Request) -> Reply {
        let (id, m, body) = match self.owned_meeting_and_body(t, id, req) {
            Ok(x) => x,
            Err(r) => return r,
        };
        if let Err(r) = self.count_daily(m["host_id"].as_str().unwrap_or("")) {
            return r;
        }
        let mut w = self.world();
        if let (Some(stored), Some(changes)) = (w.meetings.get_mut(&id), body.as_object()) {
            for (k, v) in changes.iter().filter(|(k, _)| *k != "settings") {
                stored[k] = v.clone();
            }
            merge_settings(stored, &body);
        }
        Reply::empty(204)
    }

    /// `POST /meetings/{id}/registrants`: only for a meeting made with registration on
    /// (`approval_type` 0 or 1), as Zoom; the answer carries the personal join link.
    pub(crate) fn add_registrant(&self, t: &Token, id: &str, req: &Request) -> Reply {
        let (id, m, body) = match self.owned_meeting_and_body(t, id, req) {
            Ok(x) => x,
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

    pub(crate) fn delete(&self, t: &Token, id: &str) -> Reply {
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
    pub(crate) fn list(&self, t: &Token, who: &str, req: &Request) -> Reply {
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
}

/// The request's `settings` over the meeting's, field by field: a create or an update changes
/// the settings it names and keeps the others, as Zoom does.
fn merge_settings(meeting: &mut Value, body: &Value) {
    if let (Some(stored), Some(sent)) = (
        meeting["settings"].as_object_mut(),
        body.get("settings").and_then(Value::as_object),
    ) {
        for (k, v) in sent {
            stored.insert(k.clone(), v.clone());
        }
    }
}
