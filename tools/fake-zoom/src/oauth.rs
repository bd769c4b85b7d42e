//! Zoom's OAuth as ZOOM-FACTS describes it: authorize with PKCE (S256 only), single-use codes,
//! rotating refresh tokens, Server-to-Server account tokens, revoke.

use super::*;

impl FakeZoom {
    pub(crate) fn authorize(&self, req: &Request) -> Reply {
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
    pub(crate) fn consenting_user(&self, client_id: &str) -> User {
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

    pub(crate) fn basic_client(&self, req: &Request) -> Option<(String, String)> {
        let b = req.header("authorization")?.strip_prefix("Basic ")?;
        let raw = String::from_utf8(STANDARD.decode(b.trim()).ok()?).ok()?;
        let (id, secret) = raw.split_once(':')?;
        Some((id.to_string(), secret.to_string()))
    }

    /// A user-managed OAuth app's client id and secret, as the Basic header gave them.
    pub(crate) fn app_credentials_ok(&self, client_id: &str, secret: &str) -> bool {
        self.world()
            .apps
            .get(client_id)
            .is_some_and(|a| a.secret == secret)
    }

    pub(crate) fn issue(&self, mut t: Token, with_refresh: bool, scope: &str) -> Reply {
        t.scope = scope.to_string();
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

    pub(crate) fn token_endpoint(&self, req: &Request) -> Reply {
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
        // What the app's consent grants (every scope, unless it was registered with fewer).
        let scope = self
            .world()
            .apps
            .get(&client_id)
            .map_or_else(|| crate::USER_SCOPES.to_string(), |a| a.scope.clone());
        let scope = scope.as_str();
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
                    scope: String::new(),
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
                    scope: String::new(),
                };
                self.issue(t, false, &app.scope)
            }
            _ => Reply::json(
                400,
                &json!({"code": 4705, "reason": "Unsupported grant type", "error": "unsupported_grant_type"}),
            ),
        }
    }

    pub(crate) fn revoke(&self, req: &Request) -> Reply {
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
}
