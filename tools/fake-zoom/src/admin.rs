//! The test-only admin endpoints under `/__admin/`: set up apps and users, faults, the clock,
//! caps and page sizes, observe calls, reset.

use super::*;

impl FakeZoom {
    /// `POST app` {client_id, client_secret, redirect_uri}; `POST s2s` {client_id,
    /// client_secret, account_id, users:[{id,email}]}; `POST consent-as` {email};
    /// `POST fault` {kind, count?, path_prefix?, retry_after?: seconds|"date"|"absent",
    /// latency_ms?}; `POST clear-faults`; `POST clock` {advance}; `POST daily-cap` {cap};
    /// `POST page-size` {size}; `GET stats`;
    /// `GET requests?n=`; `POST reset`; `POST webhook` {url, secret, event, payload?,
    /// timestamp?, event_ts?} (answers with what it sent, headers included).
    pub(crate) fn admin(&self, what: &str, req: &Request) -> Reply {
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
                        scope: body
                            .get("scopes")
                            .and_then(Value::as_str)
                            .unwrap_or(crate::USER_SCOPES)
                            .to_string(),
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
                        scope: body
                            .get("scopes")
                            .and_then(Value::as_str)
                            .unwrap_or(crate::ADMIN_SCOPES)
                            .to_string(),
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
                    "scope_missing",
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
}
