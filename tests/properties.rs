//! Property tests: seeded by proptest, failures are kept in `tests/properties.proptest-regressions`.

use kc_telemed::abi::{dispatch, OPS};
use kc_telemed::oauth::{self, pkce_challenge, AuthorizeInput, VerifyStateInput};
use kc_telemed::secret::Secret;
use kc_telemed::token::{decide, DecideInput, Decision, Mode, TokenSet};
use kc_telemed::webhook::{sign, verify, WebhookInput};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const KEY: &str = "property-site-key-0123456789abcdef0123";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn authorize(user_id: u64, now: i64, ttl: i64, random: &[u8]) -> oauth::AuthorizeOutput {
    oauth::authorize(&AuthorizeInput {
        oauth_base: None,
        client_id: "PropClientId01".into(),
        redirect_uri: "https://clinic.example/cb".into(),
        user_id,
        now,
        ttl: Some(ttl),
        site_key: Secret::new(KEY),
        random: hex(random),
    })
    .unwrap()
}

/// The callback as the browser and user that started the flow make it.
fn verify_as(
    state: &str,
    now: i64,
    user: u64,
    binder: &str,
) -> kc_telemed::error::Result<oauth::VerifiedState> {
    oauth::verify_state(&VerifyStateInput {
        state: state.into(),
        site_key: Secret::new(KEY),
        now,
        current_user_id: Some(user),
        binder: Some(binder.into()),
    })
}

#[test]
fn pkce_rfc7636_appendix_b() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

proptest! {
    #[test]
    fn pkce_verifier_shape_and_challenge(user in 1u64..u64::MAX, now in 0i64..4_000_000_000, random in proptest::collection::vec(any::<u8>(), 16..48)) {
        let out = authorize(user, now, 600, &random);
        let v = verify_as(&out.state, now, user, &out.binder).unwrap();
        // RFC 7636: 43..128 characters of [A-Z a-z 0-9 - . _ ~].
        prop_assert!((43..=128).contains(&v.code_verifier.len()));
        prop_assert!(v.code_verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        let challenge = pkce_challenge(&v.code_verifier);
        let query = out.url.split_once('?').unwrap().1;
        let pairs: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        prop_assert_eq!(&pairs["code_challenge"], &challenge);
        prop_assert_eq!(&pairs["code_challenge_method"], "S256");
    }

    #[test]
    fn state_round_trip_tamper_and_expiry(user in 1u64..u64::MAX, now in 0i64..4_000_000_000, ttl in 60i64..=3600,
                                          random in proptest::collection::vec(any::<u8>(), 16..32),
                                          pos in any::<prop::sample::Index>(), bit in 0u8..7, late in 1i64..100_000) {
        let out = authorize(user, now, ttl, &random);
        let v = verify_as(&out.state, now + ttl, user, &out.binder).unwrap();
        prop_assert_eq!(v.user_id, user);
        prop_assert_eq!(v.burn_key, out.burn_key);
        prop_assert_eq!(verify_as(&out.state, now + ttl + late, user, &out.binder).unwrap_err().code, "state_expired");
        // Only in the browser, and for the user, that started it.
        prop_assert_eq!(verify_as(&out.state, now, user, "").unwrap_err().code, "state_browser_mismatch");
        prop_assert_eq!(verify_as(&out.state, now, user.wrapping_add(1).max(1), &out.binder).unwrap_err().code,
            if user.wrapping_add(1).max(1) == user { "none" } else { "state_user_mismatch" });
        let mut bytes = out.state.clone().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        if let Ok(tampered) = String::from_utf8(bytes) {
            prop_assert!(verify_as(&tampered, now, user, &out.binder).is_err(), "tampered state accepted: {}", tampered);
        }
    }

    #[test]
    fn refresh_decision_is_monotonic_in_now(expires_at in 0i64..10_000_000, a in 0i64..10_000_000, b in 0i64..10_000_000,
                                            has_refresh in any::<bool>(), s2s in any::<bool>(), skew in 0i64..3000) {
        let token = TokenSet {
            access_token: Secret::new("a"),
            refresh_token: has_refresh.then(|| Secret::new("r")),
            expires_at,
            api_url: "https://api.zoom.us".into(),
            scope: None,
        };
        let mode = if s2s { Mode::S2s } else { Mode::Oauth };
        let rank = |now| match decide(&DecideInput { mode, token: Some(token.clone()), now, skew: Some(skew), rejected: None }) {
            Decision::Use => 0,
            Decision::Refresh { .. } | Decision::Fetch { .. } | Decision::Reauthorize { .. } => 1,
        };
        let (early, late) = (a.min(b), a.max(b));
        prop_assert!(rank(early) <= rank(late));
    }

    /// Whatever its expiry, the skew or the mode, a set still holding the access token Zoom
    /// refused is never used again; a set holding another one decides as if nothing was refused.
    #[test]
    fn a_token_zoom_refused_is_never_used_again(expires_at in 0i64..10_000_000, now in 0i64..10_000_000,
                                               has_refresh in any::<bool>(), s2s in any::<bool>(), skew in 0i64..3000,
                                               renewed in any::<bool>()) {
        let token = TokenSet {
            access_token: Secret::new(if renewed { "a2" } else { "a1" }),
            refresh_token: has_refresh.then(|| Secret::new("r")),
            expires_at,
            api_url: "https://api.zoom.us".into(),
            scope: None,
        };
        let mode = if s2s { Mode::S2s } else { Mode::Oauth };
        let with = |rejected: Option<&str>| decide(&DecideInput {
            mode, token: Some(token.clone()), now, skew: Some(skew), rejected: rejected.map(Secret::new),
        });
        let after = with(Some("a1"));
        if renewed {
            prop_assert_eq!(after, with(None));
        } else {
            prop_assert_ne!(after, Decision::Use);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Any single-bit change to body, timestamp or signature is refused.
    #[test]
    fn webhook_signature_rejects_every_single_bit_flip(
        body in "[ -~]{0,200}", ts_offset in -300i64..=300, secret in "[A-Za-z0-9]{16,32}",
        target in 0u8..3, pos in any::<prop::sample::Index>(), bit in 0u8..7,
    ) {
        let now = 1_767_261_600i64;
        let ts = (now + ts_offset).to_string();
        let sig = sign(&Secret::new(secret.clone()), &ts, &body);
        let input = |body: String, ts: String, sig: String| WebhookInput {
            headers: BTreeMap::from([("x-zm-signature".to_string(), sig), ("x-zm-request-timestamp".to_string(), ts)]),
            body,
            secrets: vec![Secret::new(secret.clone())],
            rotated_at: None,
            now,
        };
        prop_assert_eq!(verify(&input(body.clone(), ts.clone(), sig.clone())).unwrap(), 0);
        let flip = |s: &str| -> Option<String> {
            if s.is_empty() { return None; }
            let mut b = s.as_bytes().to_vec();
            let i = pos.index(b.len());
            b[i] ^= 1 << bit;
            String::from_utf8(b).ok()
        };
        let tampered = match target {
            0 => flip(&body).map(|b| input(b, ts.clone(), sig.clone())),
            1 => flip(&ts).map(|t| input(body.clone(), t, sig.clone())),
            _ => flip(&sig).map(|s| input(body.clone(), ts.clone(), s)),
        };
        if let Some(t) = tampered {
            // Header values are trimmed, so a flip that only adds surrounding whitespace is not a change.
            let unchanged = t.body == body
                && t.headers["x-zm-request-timestamp"].trim() == ts
                && t.headers["x-zm-signature"].trim() == sig;
            if !unchanged {
                prop_assert!(verify(&t).is_err());
            }
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,24}".prop_map(Value::from),
        Just(json!("me")),
        Just(json!("https://api.zoom.us")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,12}",
                    Just("auth".to_string()),
                    Just("appointment".to_string()),
                    Just("row".to_string()),
                    Just("response".to_string()),
                    Just("now".to_string())
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn dispatcher_never_panics_on_arbitrary_json(op in prop::sample::select(OPS.iter().copied().filter(|o| *o != "debug.panic").collect::<Vec<_>>()), input in arb_json()) {
        let raw = json!({"op": op, "input": input}).to_string();
        let answer: Value = serde_json::from_str(&dispatch(raw.as_bytes())).unwrap();
        prop_assert!(answer.get("ok").is_some() ^ answer.get("error").is_some());
    }

    /// Zoom's body handed over as the request's tail reads exactly as the same body inline,
    /// whatever it holds: a meeting, any other JSON, or text with quotes, escapes and controls.
    #[test]
    fn a_body_as_the_tail_answers_as_the_same_body_inline(
        operation in prop::sample::select(vec!["create_meeting", "get_meeting", "list_meetings", "get_user", "refresh_token"]),
        status in prop::sample::select(vec![200u16, 201, 204, 400, 401, 404, 429, 500]),
        text in "[\\x00-\\x1f\"\\\\a-z{}:,\\x7f\u{e9}\u{1f600}]{0,40}", doc in arb_json(), json_body in any::<bool>(),
    ) {
        let body = if json_body {
            let mut d = doc;
            if let Some(o) = d.as_object_mut() {
                o.insert("id".into(), json!(5));
                o.insert("join_url".into(), json!("https://zoom.us/j/5"));
            }
            d.to_string()
        } else {
            text
        };
        let input = |body: &str| json!({"operation": operation, "now": 1_000_000, "random": "0700000000000000",
            "response": {"status": status, "headers": {"Retry-After": "3"}, "body": body}});
        let inline = dispatch(json!({"op": "api.interpret", "input": input(&body)}).to_string().as_bytes());
        let mut raw = json!({"op": "api.interpret", "tail": ["response", "body"], "input": input("")}).to_string().into_bytes();
        raw.push(0);
        raw.extend_from_slice(body.as_bytes());
        prop_assert_eq!(dispatch(&raw), inline);
    }

    #[test]
    fn dispatcher_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let answer: Value = serde_json::from_str(&dispatch(&bytes)).unwrap();
        prop_assert!(answer.get("error").is_some() || answer.get("ok").is_some());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    /// The core's JSON writer (src/output.rs) skips eight bytes at a time; whatever the text,
    /// it must write what serde_json writes. Strings mix escapes, controls, DEL and
    /// multi-byte characters at every offset.
    #[test]
    fn writer_matches_serde_json_on_any_string(s in "[\\x00-\\x1f\"\\\\a-z/\\x7f\u{e9}\u{2028}\u{1f600}]{0,40}", doc in arb_json()) {
        prop_assert_eq!(kc_telemed::json::write::to_json(&s).unwrap(), serde_json::to_string(&s).unwrap());
        prop_assert_eq!(kc_telemed::json::write::to_json(&doc).unwrap(), serde_json::to_string(&doc).unwrap());
    }

    /// A body written straight as a string literal (escapes escaped again, in one pass) is
    /// exactly the literal of the body written plainly, for any document.
    #[test]
    fn a_body_written_as_a_literal_is_the_literal_of_the_body(s in "[\x00-\x1f\"\\\\a-z/\x7f\u{e9}\u{2028}\u{1f600}]{0,40}", doc in arb_json()) {
        for v in [serde_json::Value::from(s), doc] {
            let plain = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(kc_telemed::json::write::to_json_literal(&v).unwrap(), serde_json::to_string(&plain).unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Inputs are parsed into the core's own tree (src/input.rs), not serde_json's `Value`;
    /// converted back, it must be the very value serde_json reads from the same text.
    #[test]
    fn input_tree_reads_what_serde_json_reads(doc in arb_json(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        let tree = kc_telemed::json::Json::parse(&text).unwrap();
        prop_assert_eq!(Value::from(tree), serde_json::from_str::<Value>(&text).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8_000))]

    /// The core's own JSON parser (src/input/parse.rs) accepts exactly the texts serde_json
    /// accepts, and reads the same values from them: random fragments of JSON syntax, most of
    /// them invalid (trailing commas, leading zeros, bad escapes, lone surrogates, controls).
    #[test]
    fn parser_accepts_exactly_what_serde_json_accepts(
        s in r#"[ \t\n{}\[\],:"0-9eE.+\-truefalsn\\/ubd8\x01é]{0,24}"#,
    ) {
        let ours = kc_telemed::json::Json::parse(&s);
        let theirs = serde_json::from_str::<Value>(&s);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", s);
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            prop_assert_eq!(Value::from(ours), theirs);
        }
    }

    /// The same on valid documents with one character inserted, replaced or deleted: texts
    /// that are nearly JSON, where a lenient parser would slip.
    #[test]
    fn parser_agrees_with_serde_json_on_nearly_valid_texts(
        doc in arb_json(),
        at in any::<prop::sample::Index>(),
        edit in 0u8..3,
        c in prop::sample::select(r#" {}[],:"0-e.+\/u"#.chars().collect::<Vec<_>>()),
    ) {
        let mut chars: Vec<char> = doc.to_string().chars().collect();
        let i = at.index(chars.len() + 1);
        match edit {
            0 => chars.insert(i, c),
            1 if i < chars.len() => chars[i] = c,
            _ if i < chars.len() => {
                chars.remove(i);
            }
            _ => chars.push(c),
        }
        let s: String = chars.into_iter().collect();
        let ours = kc_telemed::json::Json::parse(&s);
        let theirs = serde_json::from_str::<Value>(&s);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", s);
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            prop_assert_eq!(Value::from(ours), theirs);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    /// The request's UTF-8 check (sixteen ASCII bytes per turn, then the standard one) says
    /// what the standard check says, wherever the non-ASCII or invalid bytes fall.
    #[test]
    fn the_requests_utf8_check_agrees_with_the_standard_one(
        ascii in "[ -~]{0,70}",
        tail in proptest::collection::vec(any::<u8>(), 0..12),
        at in any::<prop::sample::Index>(),
    ) {
        let mut raw = ascii.into_bytes();
        let i = at.index(raw.len() + 1);
        raw.splice(i..i, tail);
        prop_assert_eq!(kc_telemed::json::parse::utf8(&raw), std::str::from_utf8(&raw).ok());
    }

    /// Keys compared a word at a time are equal exactly when the strings are.
    #[test]
    fn keys_compare_as_strings_do(a in "[a-c_é]{0,20}", b in "[a-c_é]{0,20}", same in any::<bool>()) {
        let b = if same { a.clone() } else { b };
        prop_assert_eq!(kc_telemed::json::parse::same_key(&a, &b), a == b);
    }
}

/// The string checks as they were written before they became byte loops (for the
/// interpreter's sake): the models the fast versions must agree with on any input.
mod reference {
    pub fn is_email(s: &str) -> bool {
        let Some((local, domain)) = s.split_once('@') else {
            return false;
        };
        s.len() <= 254
            && !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && s.bytes().all(|b| b.is_ascii_graphic())
    }

    pub fn timezone_ok(tz: &str) -> bool {
        !tz.is_empty()
            && tz.len() <= 64
            && tz.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
            })
            && tz.as_bytes()[0].is_ascii_alphabetic()
    }

    /// (scheme, host, port, path, has_query, has_fragment).
    pub type Url = (String, String, Option<u16>, String, bool, bool);

    /// The parts, or the error's name.
    pub fn url(s: &str) -> Result<Url, &'static str> {
        let colon = s.find(':').ok_or("malformed")?;
        let (scheme, rest) = (&s[..colon], s[colon + 1..].strip_prefix("//"));
        let rest = rest.ok_or("malformed")?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https") {
            return Err("malformed");
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') || authority.is_empty() {
            return Err("malformed");
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
                (h, Some(p.parse::<u16>().map_err(|_| "malformed")?))
            }
            _ => (authority, None),
        };
        if !host.is_ascii() {
            return Err("non-ascii");
        }
        let host = host.to_ascii_lowercase();
        let ipv6 = host.starts_with('[') && host.ends_with(']');
        let named = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !(ipv6 || named) {
            return Err("malformed");
        }
        if tail
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err("malformed");
        }
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        Ok((
            scheme,
            host,
            port,
            tail[..path_end].to_string(),
            tail.contains('?'),
            tail.contains('#'),
        ))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn email_and_timezone_checks_agree_with_their_models(s in "[a-zA-Z0-9@./_+ \\-\u{e9}]{0,24}") {
        prop_assert_eq!(kc_telemed::policy::is_email(&s), reference::is_email(&s));
        prop_assert_eq!(kc_telemed::meeting::validate_timezone(&s).is_ok(), reference::timezone_ok(&s));
    }

    #[test]
    fn url_parsing_agrees_with_its_model(
        scheme in "(https?|HTTPS|Http|ftp|)",
        sep in "(://|:/|//|:)",
        host in "[a-zA-Z0-9.\\-\\[\\]:@\u{e4}]{0,20}",
        tail in "[/?#a-z \\x00]{0,8}",
    ) {
        use kc_telemed::weburl::{UrlError, WebUrl};
        let s = format!("{scheme}{sep}{host}{tail}");
        let got = WebUrl::parse(&s)
            .map(|u| (u.scheme, u.host, u.port, u.path, u.has_query, u.has_fragment))
            .map_err(|e| match e {
                UrlError::Malformed => "malformed",
                UrlError::NonAsciiHost => "non-ascii",
            });
        prop_assert_eq!(got, reference::url(&s), "{}", s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Whatever Zoom (or anything between) puts in a header or a body, interpreting it is an
    /// answer, never a panic (a panic traps the .wasm). Found once: a non-ASCII Retry-After.
    #[test]
    fn arbitrary_unicode_in_zoom_headers_and_bodies_never_panics(
        status in prop_oneof![Just(200u16), Just(201), Just(204), Just(400), Just(401), Just(404), Just(429), Just(500), Just(503), 100u16..600],
        op in prop::sample::select(vec!["create_meeting", "update_meeting", "delete_meeting", "get_meeting", "list_meetings", "get_user", "exchange_code", "refresh_token", "s2s_token", "revoke"]),
        name in prop_oneof![Just("Retry-After".to_string()), Just("retry-after".to_string()), Just("Content-Type".to_string()), "\\PC{0,12}"],
        value in prop_oneof![
            "\\PC{0,40}".boxed(),
            // A date Zoom could send, one character swapped for any other.
            (prop::sample::select(vec!["2020-05-31T00:00:00Z", "2020-05-31T02:00:00.123+02:00", "Sun, 31 May 2020 00:00:00 GMT"]),
             any::<prop::sample::Index>(), any::<char>())
                .prop_map(|(d, i, c)| { let mut v: Vec<char> = d.chars().collect(); let at = i.index(v.len()); v[at] = c; v.into_iter().collect::<String>() })
                .boxed(),
        ],
        body in prop_oneof!["\\PC{0,80}", Just(r#"{"code":300,"message":"daily \u00e9"}"#.to_string()), "\\{\"meetings\":\\[\\{\"id\":\"\\PC{0,8}\",\"join_url\":\"\\PC{0,8}\",\"topic\":\"\\PC{0,12}\"\\}\\],\"next_page_token\":\"\\PC{0,6}\"\\}"],
    ) {
        let request = json!({"op": "api.interpret", "input": {
            "operation": op, "now": 1_700_000_000, "random": "0011223344556677",
            "response": {"status": status, "headers": {name: value}, "body": body},
        }});
        let answer: Value = serde_json::from_str(&dispatch(request.to_string().as_bytes())).unwrap();
        prop_assert!(answer.get("ok").is_some() || answer.get("error").is_some());
        if let Some(at) = answer["ok"]["at"].as_i64() {
            prop_assert!(at <= 1_700_000_000 + 86_400, "parked too far: {}", at);
        }
        let _ = kc_telemed::timefmt::parse_retry_after(&value, 0);
    }
}

/// One participant's comings and goings as Zoom reports them: a join, then alternately a leave
/// and a join, at rising times; an odd count means they were still in at the last event.
fn stays() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(1i64..300, 0..5).prop_map(|gaps| {
        gaps.iter()
            .scan(1_000, |t, g| {
                *t += g;
                Some(*t)
            })
            .collect()
    })
}

/// The visit a participant's stay makes, straight from the definition: the first join, the
/// last leave (the end, for whoever was still in), and in or out.
fn stay_model(times: &[i64], end: Option<i64>) -> (Option<i64>, Option<i64>, bool) {
    let still_in = times.len() % 2 == 1;
    let last_leave = times.iter().skip(1).step_by(2).next_back().copied();
    match (still_in, end) {
        (true, Some(end)) => (times.first().copied(), Some(end), false),
        (true, None) => (times.first().copied(), last_leave, true),
        (false, _) => (times.first().copied(), last_leave, false),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Zoom's events arrive late and out of order (a delivery is retried minutes later): in
    /// whatever order a visit's events arrive, the record, KiviCare's status and the effects
    /// come out as the events say, checked against a model built from the times alone.
    #[test]
    fn a_visit_is_the_same_in_whatever_order_its_events_arrive(
        (doctor, patient, end, check_in, (waits, admitted), order) in (stays(), stays(), prop::option::of(1i64..300), any::<bool>(), (any::<bool>(), any::<bool>()))
            .prop_flat_map(|(d, p, end_gap, check_in, (waits, admitted))| {
                let end = end_gap.map(|g| d.iter().chain(&p).max().unwrap_or(&1_000) + g);
                let admitted = waits && admitted;
                let n = d.len() + p.len() + usize::from(end.is_some()) + usize::from(waits) + usize::from(admitted);
                (Just(d), Just(p), Just(end), Just(check_in), Just((waits, admitted)), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
            })
    ) {
        let who = |doctor_side: bool| if doctor_side { json!({"zoom_user_id": "HOSTuser1"}) } else { json!({"email": "pat@example.org"}) };
        let change = |i: usize| if i % 2 == 0 { "joined" } else { "left" };
        let mut events: Vec<Value> = Vec::new();
        for (side, times) in [(true, &doctor), (false, &patient)] {
            for (i, at) in times.iter().enumerate() {
                events.push(json!({"action": "participant", "meeting_id": "85000000001", "change": change(i), "participant": who(side), "at": at}));
            }
        }
        if let Some(end) = end {
            events.push(json!({"action": "meeting_ended", "meeting_id": "85000000001", "at": end}));
        }
        // Put in the waiting room before anything else happened, and perhaps let in.
        if waits {
            events.push(json!({"action": "participant", "meeting_id": "85000000001", "change": "waiting", "participant": who(false), "at": 999}));
        }
        if admitted {
            events.push(json!({"action": "participant", "meeting_id": "85000000001", "change": "admitted", "participant": who(false), "at": 1_000}));
        }
        let (mut visit, mut status, mut done) = (Value::Null, 1u16, Vec::<String>::new());
        // The doctor's "your patient is waiting" notice, as the effects show and clear it.
        let (mut notice, mut past_the_wait) = (false, false);
        for &i in &order {
            let mut input = json!({"appointment_id": 42, "zoom_id": "85000000001", "patient_email": "pat@example.org",
                "host_ids": ["HOSTuser1"], "appointment_status": status, "check_in": check_in, "event": events[i], "now": 5_000});
            if !visit.is_null() {
                input["visit"] = visit.clone();
            }
            let answer: Value = serde_json::from_str(&dispatch(json!({"op": "visit.apply", "input": input}).to_string().as_bytes())).unwrap();
            let step = &answer["ok"];
            prop_assert!(step.is_object(), "{}", answer);
            if !step["write"].is_null() {
                visit = step["write"].clone();
            }
            for effect in step["effects"].as_array().unwrap() {
                let what = effect["do"].as_str().unwrap().to_string();
                match what.as_str() {
                    // The host sets the status the effect names (KiviCare's own numbers).
                    "check_in" => {
                        prop_assert_eq!(&effect["status"], 4);
                        status = 4;
                    }
                    "check_out" => {
                        prop_assert_eq!(&effect["status"], 3);
                        status = 3;
                    }
                    "patient_waiting" => {
                        prop_assert!(!past_the_wait, "told the patient waits after they joined or the meeting ended");
                        notice = true;
                    }
                    "wait_over" => notice = false,
                    _ => {}
                }
                done.push(what);
            }
            let e = &events[i];
            past_the_wait |= e["action"] == "meeting_ended"
                || ((e["change"] == "joined" || e["change"] == "admitted") && e["participant"] == who(false));
        }
        let field = |name: &str| visit.get(name).and_then(Value::as_i64);
        let waiting = (waits && !admitted && patient.is_empty() && end.is_none()).then_some(999);
        prop_assert_eq!(field("waiting_since"), waiting);
        prop_assert_eq!(notice, waiting.is_some(), "the doctor's notice");
        let inside = |name: &str| visit.get(name).and_then(Value::as_bool).unwrap_or(false);
        let (dj, dl, din) = stay_model(&doctor, end);
        let (pj, pl, pin) = stay_model(&patient, end);
        prop_assert_eq!((field("doctor_joined_at"), field("doctor_left_at"), inside("doctor_in")), (dj, dl, din), "the doctor");
        prop_assert_eq!((field("patient_joined_at"), field("patient_left_at"), inside("patient_in")), (pj, pl, pin), "the patient");
        prop_assert_eq!(field("ended_at"), end);
        let together = match (end, dj, pj) {
            (Some(_), Some(dj), Some(pj)) => Some((dl.unwrap().min(pl.unwrap()) - dj.max(pj)).max(0)),
            _ => None,
        };
        prop_assert_eq!(field("together_seconds"), together);
        let outcome = match (pj.is_some(), end.is_some() && dj.is_some()) {
            (true, true) if check_in => Some("checked_out"),
            (true, _) => Some("checked_in"),
            (false, true) => Some("no_show"),
            (false, false) => None,
        };
        prop_assert_eq!(visit.get("outcome").and_then(Value::as_str), outcome);
        let kivicare = match outcome {
            Some("checked_out") => 3,
            Some("checked_in") if check_in => 4,
            _ => 1,
        };
        prop_assert_eq!(status, kivicare, "KiviCare's status");
        for once in ["check_in", "check_out", "no_show"] {
            prop_assert!(done.iter().filter(|d| *d == once).count() <= 1, "{} more than once: {:?}", once, done);
        }
    }
}
