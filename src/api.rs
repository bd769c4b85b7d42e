//! Zoom's answers, interpreted: every exchange ends in one [`Outcome`] whose variant says
//! what the host does next. Retry timing (Retry-After, the daily cap, backoff with full
//! jitter) is decided here too.

use crate::error::{CoreError, Result};
use crate::http::HttpResponse;
use crate::json::{FromJson, Json, Lenient};
use crate::meeting::{parse_meeting, MeetingRecord, Registration};
use crate::random::HostRandom;
use crate::timefmt::{next_utc_midnight, parse_retry_after};
use crate::token::{parse_token, TokenSet};
use serde::Serialize;
use serde_json::Value;

pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
const BACKOFF_BASE: i64 = 2;
const BACKOFF_CAP: i64 = 300;
/// The longest `Retry-After` honoured: a far-future value must not park work for good.
pub const RETRY_AFTER_CEILING: i64 = 3_600;
/// The one header of Zoom's answers the core reads (a 429's wait).
const RETRY_AFTER: &str = "retry-after";
/// Every header of Zoom's answers the core reads, lowercase (`meta.info` lists them): a host
/// hands back only these. An answer over HTTPS carries many more (dates, cookies, tracing,
/// rate-limit counters); with fifteen such headers, the step that reads a create's answer
/// took 17 to 20 % longer in wasmi, reading them only to ignore them.
pub const RESPONSE_HEADERS: &[&str] = &[RETRY_AFTER];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    CreateMeeting,
    UpdateMeeting,
    DeleteMeeting,
    GetMeeting,
    ListMeetings,
    GetUser,
    /// Registers the patient on the meeting.
    AddRegistrant,
    /// Token endpoint, `authorization_code` grant.
    ExchangeCode,
    /// Token endpoint, `refresh_token` grant.
    RefreshToken,
    /// Token endpoint, Server-to-Server `account_credentials` grant.
    S2sToken,
    Revoke,
}

impl Operation {
    /// Zoom's granular scope for this call made with a user's token (a Server-to-Server app
    /// needs the same one with `:admin`); token and revoke calls need none.
    pub fn scope(self) -> Option<&'static str> {
        Some(match self {
            Self::CreateMeeting => "meeting:write:meeting",
            Self::UpdateMeeting => "meeting:update:meeting",
            Self::DeleteMeeting => "meeting:delete:meeting",
            Self::GetMeeting => "meeting:read:meeting",
            Self::ListMeetings => "meeting:read:list_meetings",
            Self::GetUser => "user:read:user",
            Self::AddRegistrant => "meeting:write:registrant",
            Self::ExchangeCode | Self::RefreshToken | Self::S2sToken | Self::Revoke => return None,
        })
    }

    /// The classic scope that also covers this call, on apps made before granular scopes
    /// (`:admin` for Server-to-Server, as for the granular ones).
    pub fn classic_scope(self) -> Option<&'static str> {
        Some(match self {
            Self::CreateMeeting
            | Self::UpdateMeeting
            | Self::DeleteMeeting
            | Self::AddRegistrant => "meeting:write",
            Self::GetMeeting | Self::ListMeetings => "meeting:read",
            Self::GetUser => "user:read",
            Self::ExchangeCode | Self::RefreshToken | Self::S2sToken | Self::Revoke => return None,
        })
    }

    fn is_token(self) -> bool {
        matches!(
            self,
            Self::ExchangeCode | Self::RefreshToken | Self::S2sToken
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Outcome {
    /// Success; `result` is the parsed answer (a meeting, a token set, a user, or null).
    Done { result: Box<Answer> },
    /// Refresh the token (OAuth) or fetch a new one (S2S), then retry this call once.
    RefreshThenRetry,
    /// The doctor must connect Zoom again; keep the reason for the UI.
    Reconnect {
        reason: &'static str,
        message: String,
    },
    /// The meeting no longer exists at Zoom: treat a delete as done, a get/update as lost.
    Gone,
    /// Try again no earlier than `at` (Unix seconds).
    RetryAt { at: i64, reason: &'static str },
    /// A create may have reached Zoom: look for the meeting by its correlation reference
    /// before creating again, no earlier than `at`.
    RecoverThenRetry { at: i64, reason: &'static str },
    /// The refresh token was refused: re-read the stored set and ask `token.after_refresh_failure`.
    CheckStored,
    /// Give up and show `message`.
    Fail {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        http_status: Option<u16>,
    },
}

/// What a call that succeeded came to, by operation; written straight out (no `Value` on the
/// way, so no object is sorted and copied only to be written).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// `create_meeting`, `get_meeting`.
    Meeting(MeetingRecord),
    /// `list_meetings`: one page (a meeting Zoom wrote unreadably is left out).
    Page {
        meetings: Vec<MeetingRecord>,
        next_page_token: String,
    },
    /// `get_user`: the id the addon keeps; the rest as Zoom wrote it (null when absent).
    User {
        id: String,
        email: Json<'static>,
        account_id: Json<'static>,
        first_name: Json<'static>,
        last_name: Json<'static>,
        #[serde(rename = "type")]
        kind: Json<'static>,
    },
    /// `add_registrant`.
    Registration(Registration),
    /// The token endpoint's grants.
    Token(TokenSet),
    /// `update_meeting`, `delete_meeting`, `revoke`: null.
    Nothing,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct InterpretInput {
    pub operation: Operation,
    /// Zoom's answer, or
    pub response: Option<HttpResponse>,
    /// what went wrong when no answer came (timeout, DNS, TLS, reset).
    pub network_error: Option<String>,
    pub now: i64,
    /// 1 for the first try of this call.
    #[serde(default = "one")]
    pub attempt: u32,
    /// Whether the token was already refreshed for this call.
    #[serde(default)]
    pub refreshed: bool,
    pub max_attempts: Option<u32>,
    /// Hex entropy for backoff jitter: at least 8 bytes.
    pub random: String,
}

fn one() -> u32 {
    1
}

/// Zoom's error body: `{code, message}` on the API, `{error, reason}` on the token endpoint.
#[derive(Debug, Default)]
struct ZoomError {
    code: Option<i64>,
    error: Option<String>,
    message: String,
}

/// Zoom's error body as it arrives: `{code, message}` from the API, `{error, reason}` (or
/// `error_description`) from the token endpoint; a code may come as a number or a string.
#[derive(FromJson)]
struct ZoomErrorBody {
    code: Lenient<Value>,
    error: Lenient<String>,
    message: Lenient<String>,
    reason: Lenient<String>,
    error_description: Lenient<String>,
}

fn zoom_error(resp: &HttpResponse) -> ZoomError {
    let Some(b) = Json::parse(&resp.body)
        .ok()
        .and_then(|j| crate::json::read::<ZoomErrorBody>(j).ok())
    else {
        return ZoomError::default();
    };
    let message = b
        .message
        .get()
        .or(b.reason.get())
        .or(b.error_description.get())
        .unwrap_or_default();
    ZoomError {
        code: b.code.get().and_then(|c| {
            c.as_i64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        }),
        error: b.error.get(),
        // Zoom's messages are short; keep ours bounded whatever arrives.
        message: message.chars().take(300).collect(),
    }
}

fn backoff(input: &InterpretInput) -> Result<i64> {
    let mut random = HostRandom::from_hex(&input.random, "random", 8)?;
    let exp = input.attempt.saturating_sub(1).min(16);
    let cap = BACKOFF_CAP.min(BACKOFF_BASE.saturating_mul(1 << exp));
    // Full jitter: uniform in [1, cap], so retrying workers spread out.
    let delay = 1 + (random.next_u64() % cap as u64) as i64;
    Ok(input.now.saturating_add(delay))
}

pub fn interpret(input: &InterpretInput) -> Result<Outcome> {
    interpret_as(input, input.response.as_ref(), Reading::Whole)
}

/// How much of a meeting Zoom answered with is kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// All of it, `settings` included: the answer goes back to the host.
    Whole,
    /// What a mapping row keeps: Zoom's `settings` (about thirty fields in a real answer)
    /// are left in the parse instead of being copied out and dropped again.
    ForRow,
}

/// [`interpret`] of a response the caller lends (`input.response` is not read: a lifecycle
/// step's response stays where it was read instead of being copied), keeping as much of a
/// meeting as `reading` says.
pub fn interpret_as(
    input: &InterpretInput,
    response: Option<&HttpResponse>,
    reading: Reading,
) -> Result<Outcome> {
    let max = input
        .max_attempts
        .unwrap_or(DEFAULT_MAX_ATTEMPTS)
        .clamp(1, 20);
    let exhausted = |what: &str| Outcome::Fail {
        code: "retries_exhausted".into(),
        message: format!("Zoom could not be reached after {max} attempts ({what})"),
        http_status: None,
    };
    let retry = |reason: &'static str| -> Result<Outcome> {
        if input.attempt >= max {
            return Ok(exhausted(reason));
        }
        let at = backoff(input)?;
        Ok(if input.operation == Operation::CreateMeeting {
            Outcome::RecoverThenRetry { at, reason }
        } else {
            Outcome::RetryAt { at, reason }
        })
    };
    let resp = match (response, &input.network_error) {
        (Some(r), None) => r,
        (None, Some(_)) => return retry("network"),
        _ => {
            return Err(CoreError::new(
                "input_invalid",
                "give exactly one of response and network_error",
            ))
        }
    };
    if resp.is_success() {
        return success(input, resp, reading);
    }
    let err = zoom_error(resp);
    let status = resp.status;
    let daily = err.message.to_ascii_lowercase().contains("daily");

    if (status == 429 || err.code == Some(300)) && daily {
        return Ok(Outcome::RetryAt {
            at: next_utc_midnight(input.now),
            reason: "daily_cap",
        });
    }
    if status == 429 {
        if let Some(at) = resp
            .header(RETRY_AFTER)
            .and_then(|v| parse_retry_after(v, input.now))
        {
            return Ok(Outcome::RetryAt {
                at: at.clamp(input.now + 1, input.now + RETRY_AFTER_CEILING),
                reason: "rate_limited",
            });
        }
        return retry("rate_limited");
    }
    if status >= 500 {
        return retry("server_error");
    }
    if input.operation.is_token() {
        return Ok(token_failure(input.operation, status, &err));
    }
    if let Some(code @ 4700..=4799) = err.code {
        let (reason, message) = if code == 4711 {
            ("scopes_missing", scopes_message(input.operation))
        } else {
            ("oauth_error", reconnect_message(&err))
        };
        return Ok(Outcome::Reconnect { reason, message });
    }
    if status == 401 {
        return Ok(if input.refreshed {
            Outcome::Reconnect {
                reason: "token_rejected",
                message: reconnect_message(&err),
            }
        } else {
            Outcome::RefreshThenRetry
        });
    }
    if status == 404 && err.code == Some(1001) {
        return Ok(fail(
            "host_not_found",
            "the Zoom user for this doctor was not found",
            status,
        ));
    }
    if status == 404 || err.code == Some(3001) {
        return Ok(Outcome::Gone);
    }
    let code = err
        .code
        .map(|c| format!("zoom_{c}"))
        .unwrap_or_else(|| format!("http_{status}"));
    let message = if err.message.is_empty() {
        format!("Zoom answered HTTP {status}")
    } else {
        err.message
    };
    Ok(Outcome::Fail {
        code,
        message,
        http_status: Some(status),
    })
}

fn fail(code: &str, message: &str, status: u16) -> Outcome {
    Outcome::Fail {
        code: code.into(),
        message: message.into(),
        http_status: Some(status),
    }
}

/// What a missing scope asks of the administrator, named for the call that needed it: a
/// connection made again without it would be refused the same way.
fn scopes_message(op: Operation) -> String {
    match op.scope() {
        Some(scope) => format!(
            "the Zoom app lacks the scope {scope} ({scope}:admin for a Server-to-Server app): add it to the app in the Zoom App Marketplace, then connect Zoom again"
        ),
        None => "the Zoom app lacks a scope this call needs: add the scopes listed on the addon's settings page, then connect Zoom again".into(),
    }
}

fn reconnect_message(err: &ZoomError) -> String {
    if err.message.is_empty() {
        "Zoom no longer accepts this connection; please connect Zoom again".into()
    } else {
        err.message.clone()
    }
}

fn token_failure(op: Operation, status: u16, err: &ZoomError) -> Outcome {
    let grant_refused = err.error.as_deref() == Some("invalid_grant")
        || matches!(err.code, Some(4733 | 4734 | 4735 | 4741));
    let client_refused =
        err.error.as_deref() == Some("invalid_client") || matches!(err.code, Some(4702 | 4704));
    match op {
        Operation::RefreshToken if grant_refused => Outcome::CheckStored,
        Operation::ExchangeCode if grant_refused => fail(
            "authorization_code_invalid",
            "the Zoom authorization expired or was already used; please connect again",
            status,
        ),
        _ if client_refused => fail(
            "invalid_client",
            "Zoom refused the client id or client secret",
            status,
        ),
        // The client and secret are right, the account id is not the app's.
        Operation::S2sToken if err.error.as_deref() == Some("invalid_request") => fail(
            "account_invalid",
            &if err.message.is_empty() {
                "Zoom refused the account id".to_string()
            } else {
                err.message.clone()
            },
            status,
        ),
        _ if err.code == Some(4709) => fail(
            "redirect_uri_mismatch",
            "the redirect URL does not match the one registered in the Zoom app",
            status,
        ),
        _ => fail(
            "token_error",
            &if err.message.is_empty() {
                format!("Zoom's token endpoint answered HTTP {status}")
            } else {
                err.message.clone()
            },
            status,
        ),
    }
}

/// One page of a host's meetings, as Zoom answers it.
#[derive(FromJson)]
struct ZoomMeetingPage {
    /// Each meeting is read on its own: one Zoom cannot parse is left out, not the page.
    meetings: Lenient<Vec<Json<'static>>>,
    next_page_token: Lenient<String>,
}

/// A Zoom user: the id the addon keeps; the rest passed on as Zoom wrote it.
#[derive(FromJson)]
struct ZoomUser {
    id: Lenient<String>,
    email: Option<Json<'static>>,
    account_id: Option<Json<'static>>,
    first_name: Option<Json<'static>>,
    last_name: Option<Json<'static>>,
    #[serde(rename = "type")]
    kind: Option<Json<'static>>,
}

fn success(input: &InterpretInput, resp: &HttpResponse, reading: Reading) -> Result<Outcome> {
    let body = || {
        Json::parse(&resp.body)
            .map_err(|_| CoreError::new("response_invalid", "Zoom's answer is not JSON"))
    };
    let invalid = |m: &str| CoreError::new("response_invalid", m.to_string());
    let result = match input.operation {
        Operation::CreateMeeting | Operation::GetMeeting => {
            let mut meeting = body()?;
            if reading == Reading::ForRow {
                if let Json::Obj(fields) = &mut meeting {
                    fields.retain(|(k, _)| k != "settings");
                }
            }
            Answer::Meeting(parse_meeting(meeting)?)
        }
        Operation::UpdateMeeting | Operation::DeleteMeeting | Operation::Revoke => Answer::Nothing,
        Operation::ListMeetings => {
            let page: ZoomMeetingPage = crate::json::read(body()?)
                .map_err(|_| invalid("Zoom's meeting list is not an object"))?;
            Answer::Page {
                meetings: page
                    .meetings
                    .get()
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|m| parse_meeting(m).ok())
                    .collect(),
                next_page_token: page.next_page_token.get().unwrap_or_default(),
            }
        }
        Operation::AddRegistrant => {
            Answer::Registration(crate::meeting::parse_registrant(body()?)?)
        }
        Operation::GetUser => {
            let user: ZoomUser = crate::json::read(body()?)
                .map_err(|_| invalid("Zoom's user answer is not an object"))?;
            let id = user
                .id
                .get()
                .ok_or_else(|| invalid("Zoom's user answer has no id"))?;
            let pick = |v: Option<Json<'static>>| v.unwrap_or(Json::Null);
            Answer::User {
                id,
                email: pick(user.email),
                account_id: pick(user.account_id),
                first_name: pick(user.first_name),
                last_name: pick(user.last_name),
                kind: pick(user.kind),
            }
        }
        Operation::ExchangeCode | Operation::RefreshToken => {
            Answer::Token(parse_token(resp, input.now, true)?)
        }
        Operation::S2sToken => Answer::Token(parse_token(resp, input.now, false)?),
    };
    Ok(Outcome::Done {
        result: Box::new(result),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(op: &str, status: u16, headers: Value, body: Value, extra: Value) -> Outcome {
        let mut v = json!({
            "operation": op, "now": 1_000_000, "random": "0700000000000000",
            "response": {"status": status, "headers": headers, "body": body.to_string()}
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        interpret(&crate::json::read(v).unwrap()).unwrap()
    }

    #[test]
    fn a_reading_for_a_row_keeps_everything_but_zooms_settings() {
        let body = json!({
            "id": 85746065999u64, "join_url": "https://zoom.us/j/1", "topic": "t",
            "start_url": "https://zoom.us/s/1", "password": "p", "duration": 30,
            "settings": {"waiting_room": true, "global_dial_in_numbers": [{"country": "US"}]}
        });
        let input: InterpretInput = crate::json::read(json!({
            "operation": "create_meeting", "now": 1_000_000, "random": "0700000000000000",
            "response": {"status": 201, "headers": {}, "body": body.to_string()}
        }))
        .unwrap();
        let meeting = |o: Outcome| match o {
            Outcome::Done { result } => match *result {
                Answer::Meeting(m) => m,
                other => panic!("not a meeting: {other:?}"),
            },
            other => panic!("not done: {other:?}"),
        };
        let whole = meeting(interpret(&input).unwrap());
        let lent = input.response.as_ref();
        let for_row = meeting(interpret_as(&input, lent, Reading::ForRow).unwrap());
        assert_eq!(
            serde_json::to_value(whole.settings.as_ref().unwrap()).unwrap(),
            body["settings"]
        );
        assert!(for_row.settings.is_none());
        assert_eq!(
            MeetingRecord {
                settings: None,
                ..whole
            },
            for_row
        );
    }

    #[test]
    fn expired_token_refreshes_once_then_reconnects() {
        let body = json!({"code":124,"message":"Invalid access token."});
        assert_eq!(
            run("get_meeting", 401, json!({}), body.clone(), json!({})),
            Outcome::RefreshThenRetry
        );
        assert!(matches!(
            run(
                "get_meeting",
                401,
                json!({}),
                body,
                json!({"refreshed": true})
            ),
            Outcome::Reconnect {
                reason: "token_rejected",
                ..
            }
        ));
    }

    #[test]
    fn scopes_missing_reconnects() {
        let o = run(
            "create_meeting",
            400,
            json!({}),
            json!({"code":4711,"message":"Invalid access token, does not contain scopes."}),
            json!({}),
        );
        assert!(matches!(
            &o,
            Outcome::Reconnect {
                reason: "scopes_missing",
                message,
            } if message.contains("meeting:write:meeting (meeting:write:meeting:admin")
        ));
    }

    #[test]
    fn retry_after_seconds_date_and_daily_cap() {
        assert_eq!(
            run(
                "update_meeting",
                429,
                json!({"Retry-After": "30"}),
                json!({"code":429,"message":"Too many requests"}),
                json!({})
            ),
            Outcome::RetryAt {
                at: 1_000_030,
                reason: "rate_limited"
            }
        );
        assert_eq!(
            run(
                "update_meeting",
                429,
                json!({"retry-after": "1970-01-12T14:00:00Z"}),
                json!({}),
                json!({})
            ),
            Outcome::RetryAt {
                at: 1_000_800,
                reason: "rate_limited"
            }
        );
        // A far-future date is honoured only up to the ceiling.
        assert_eq!(
            run(
                "update_meeting",
                429,
                json!({"retry-after": "9999-12-31T00:00:00Z"}),
                json!({}),
                json!({})
            ),
            Outcome::RetryAt {
                at: 1_000_000 + RETRY_AFTER_CEILING,
                reason: "rate_limited"
            }
        );
        assert_eq!(
            run(
                "create_meeting",
                429,
                json!({"Retry-After": "5"}),
                json!({"code":429,"message":"You have reached the maximum daily rate limit for this API."}),
                json!({})
            ),
            Outcome::RetryAt {
                at: 1_036_800,
                reason: "daily_cap"
            }
        );
    }

    #[test]
    fn server_errors_back_off_and_creates_recover_first() {
        let o = run(
            "get_meeting",
            503,
            json!({}),
            json!({}),
            json!({"attempt": 3}),
        );
        // attempt 3: cap 8 s; jitter byte 7 -> 1 + 7 % 8 = 8.
        assert_eq!(
            o,
            Outcome::RetryAt {
                at: 1_000_008,
                reason: "server_error"
            }
        );
        let o = run("create_meeting", 500, json!({}), json!({}), json!({}));
        assert!(matches!(o, Outcome::RecoverThenRetry { .. }));
        let o = run(
            "get_meeting",
            500,
            json!({}),
            json!({}),
            json!({"attempt": 5}),
        );
        assert!(matches!(o, Outcome::Fail { ref code, .. } if code == "retries_exhausted"));
    }

    #[test]
    fn refresh_invalid_grant_checks_stored_tokens() {
        let o = run(
            "refresh_token",
            400,
            json!({}),
            json!({"reason":"Invalid Token!","error":"invalid_grant"}),
            json!({}),
        );
        assert_eq!(o, Outcome::CheckStored);
    }

    #[test]
    fn meeting_gone_and_user_missing() {
        assert_eq!(
            run(
                "delete_meeting",
                404,
                json!({}),
                json!({"code":3001,"message":"Meeting does not exist: 1."}),
                json!({})
            ),
            Outcome::Gone
        );
        assert!(matches!(
            run("create_meeting", 404, json!({}), json!({"code":1001,"message":"User does not exist"}), json!({})),
            Outcome::Fail { ref code, .. } if code == "host_not_found"
        ));
    }
}
