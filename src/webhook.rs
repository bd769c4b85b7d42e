//! Zoom webhooks: `x-zm-signature` verified in constant time against the current and the
//! previous secret, the URL-validation handshake answered without becoming a signing
//! oracle, and meeting events turned into host actions.

use crate::error::{CoreError, Result};
use crate::json::{FromJson, Lenient};
use crate::meeting::MeetingId;
use crate::random::{decode_hex, encode_hex};
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

pub const TOLERANCE: i64 = 300;

/// How long the secret token a rotation replaced still verifies (seconds): Zoom's deliveries
/// signed before the clinic saved the new one, and its retries of them, still land; an old
/// secret does not stay valid for ever.
pub const PREVIOUS_SECRET_GRACE: i64 = 86_400;

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub headers: BTreeMap<String, String>,
    /// The raw request body, exactly as received.
    pub body: String,
    /// The current secret token first (empty when none is stored), then the one it
    /// replaced, if any.
    pub secrets: Vec<Secret>,
    /// When the current secret replaced the previous one (Unix seconds). The previous one
    /// verifies for [`PREVIOUS_SECRET_GRACE`] after; without this time it does not verify.
    pub rotated_at: Option<i64>,
    pub now: i64,
}

impl WebhookInput {
    /// The secrets that verify now, in order: the current one, then the previous one while
    /// its grace lasts; empty ones left out.
    fn usable(&self) -> Vec<&Secret> {
        let previous_counts = self
            .rotated_at
            .is_some_and(|at| self.now < at.saturating_add(PREVIOUS_SECRET_GRACE));
        let upto = if previous_counts {
            self.secrets.len()
        } else {
            1
        };
        self.secrets
            .iter()
            .take(upto)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WebhookAction {
    /// Answer 200 with this JSON body.
    UrlValidation {
        #[serde(rename = "plainToken")]
        plain_token: String,
        #[serde(rename = "encryptedToken")]
        encrypted_token: String,
    },
    MeetingStarted {
        meeting_id: MeetingId,
        /// When it started (Unix seconds), if Zoom said.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<i64>,
    },
    MeetingEnded {
        meeting_id: MeetingId,
        /// When it ended (Unix seconds), if Zoom said.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<i64>,
    },
    /// Someone joined, left, waits (in the waiting room, or for the host) or was admitted:
    /// ask `visit.apply` what it means for the appointment's visit.
    Participant {
        meeting_id: MeetingId,
        change: ParticipantChange,
        participant: Participant,
        /// When it happened (Unix seconds): Zoom's time for it, else the event's.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<i64>,
    },
    MeetingDeleted {
        meeting_id: MeetingId,
    },
    /// Zoom-side change: the host re-reads the meeting or applies the given fields.
    MeetingUpdated {
        meeting_id: MeetingId,
        #[serde(skip_serializing_if = "Option::is_none")]
        start_time: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        duration: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        timezone: Option<String>,
    },
    /// The user removed the app: delete that Zoom user's tokens and data.
    Deauthorize {
        zoom_user_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        account_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// Signed and valid, but not an event the addon acts on: answer 200 and do nothing.
    Ignore {
        event: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantChange {
    Joined,
    Left,
    /// Put in the waiting room, or waiting for the host to start.
    Waiting,
    Admitted,
}

/// Who it was, as far as Zoom says: what identifies a person, never their name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, FromJson)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    /// Their Zoom user id (`participant.id`; empty for guests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoom_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Set when they joined through their own registration link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrant_id: Option<String>,
}

/// A verified delivery: what to do, and what lets the host refuse a replay.
#[derive(Debug, PartialEq, Serialize)]
pub struct Handled {
    #[serde(flatten)]
    pub action: WebhookAction,
    /// The same for an exact replay of a delivery, different for any other: remember it for
    /// the signature's tolerance window and ignore a delivery already seen.
    pub delivery: String,
    /// When Zoom says the event happened (ms since the epoch), if it said: apply no event
    /// older than the last one applied to the same row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<i64>,
}

fn header<'a>(h: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn mac(secret: &Secret, msg: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// Returns the index, among [`WebhookInput::usable`], of the secret that signed the request.
pub fn verify(input: &WebhookInput) -> Result<usize> {
    let unsigned = |m: &str| CoreError::new("webhook_signature_invalid", m.to_string());
    let secrets = input.usable();
    if secrets.is_empty() {
        return Err(CoreError::field(
            "webhook_secret_missing",
            "webhook_secret",
            "no webhook secret token is configured",
        ));
    }
    // Zoom posts JSON and says so; a request that says it is something else is not Zoom's.
    if let Some(ct) = header(&input.headers, "content-type") {
        let media = ct.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/json") {
            return Err(CoreError::field(
                "webhook_content_type_invalid",
                "content-type",
                "the webhook must be sent as application/json",
            ));
        }
    }
    let sig = header(&input.headers, "x-zm-signature")
        .ok_or_else(|| unsigned("x-zm-signature is missing"))?;
    let ts_raw = header(&input.headers, "x-zm-request-timestamp")
        .ok_or_else(|| unsigned("x-zm-request-timestamp is missing"))?;
    let ts: i64 = ts_raw
        .parse()
        .ok()
        .filter(|_| ts_raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| unsigned("x-zm-request-timestamp is not a Unix time"))?;
    if (input.now - ts).abs() > TOLERANCE {
        return Err(CoreError::new(
            "webhook_timestamp_stale",
            "the webhook timestamp is more than 300 seconds away from now",
        ));
    }
    // Zoom sends lowercase hex; accepting other spellings would let altered headers pass.
    let given = sig
        .strip_prefix("v0=")
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        .and_then(decode_hex)
        .filter(|g| g.len() == 32)
        .ok_or_else(|| unsigned("x-zm-signature is not a v0 HMAC-SHA256"))?;
    let msg = format!("v0:{ts_raw}:{}", input.body);
    // Check every secret so timing does not tell which one matched.
    let mut found = None;
    for (i, s) in secrets.iter().enumerate() {
        if bool::from(mac(s, msg.as_bytes()).ct_eq(given.as_slice())) && found.is_none() {
            found = Some(i);
        }
    }
    found.ok_or_else(|| unsigned("the webhook signature does not match"))
}

/// Zoom's `x-zm-signature` for a body: what Zoom sends and what tests sign with.
pub fn sign(secret: &Secret, timestamp: &str, body: &str) -> String {
    format!(
        "v0={}",
        encode_hex(&mac(secret, format!("v0:{timestamp}:{body}").as_bytes()))
    )
}

fn is_plain_token(t: &str) -> bool {
    (1..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn handle(input: &WebhookInput) -> Result<Handled> {
    let which = verify(input)?;
    let delivery = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for name in ["x-zm-request-timestamp", "x-zm-signature"] {
            h.update(header(&input.headers, name).unwrap_or("").as_bytes());
            h.update(b"\n");
        }
        encode_hex(&h.finalize())
    };
    let d = read_delivery(&input.body);
    let event_ts = d.as_ref().ok().and_then(|d| d.event_ts.0);
    let action = action(input, which, d)?;
    Ok(Handled {
        action,
        delivery,
        event_ts,
    })
}

/// A delivery's body, as much as the addon reads: Zoom's shape, unknown fields ignored, a
/// field of the wrong type read as absent.
#[derive(FromJson)]
struct Delivery {
    event: Lenient<String>,
    event_ts: Lenient<i64>,
    payload: Lenient<Payload>,
}

#[derive(Default, FromJson)]
struct Payload {
    #[serde(rename = "plainToken")]
    plain_token: Lenient<String>,
    object: Lenient<EventObject>,
    /// `app_deauthorized`.
    user_id: Lenient<String>,
    account_id: Lenient<String>,
    client_id: Lenient<String>,
}

#[derive(Default, FromJson)]
struct EventObject {
    id: Lenient<MeetingId>,
    start_time: Lenient<String>,
    end_time: Lenient<String>,
    duration: Lenient<i64>,
    timezone: Lenient<String>,
    participant: Lenient<ParticipantIn>,
}

#[derive(Default, FromJson)]
struct ParticipantIn {
    id: Lenient<String>,
    email: Lenient<String>,
    registrant_id: Lenient<String>,
    join_time: Lenient<String>,
    leave_time: Lenient<String>,
    date_time: Lenient<String>,
}

/// Zoom's deauthorization of a user-managed app.
pub const DEAUTHORIZED: &str = "app_deauthorized";

/// The events the webhook acts on: the ones to subscribe the Zoom app to (any other is
/// acknowledged and ignored).
pub const EVENTS: [&str; 10] = [
    "meeting.started",
    "meeting.ended",
    "meeting.updated",
    "meeting.deleted",
    "meeting.participant_joined",
    "meeting.participant_left",
    "meeting.participant_put_in_waiting_room",
    "meeting.participant_jbh_waiting",
    "meeting.participant_admitted",
    DEAUTHORIZED,
];

/// The body, read once: not JSON, or JSON that is not an object, is refused.
fn read_delivery(body: &str) -> Result<Delivery> {
    let bad = |m: &str| CoreError::new("webhook_payload_invalid", m.to_string());
    let json = crate::json::Json::parse(body).map_err(|_| bad("the webhook body is not JSON"))?;
    crate::json::read(json).map_err(|_| bad("the webhook has no event"))
}

fn action(input: &WebhookInput, which: usize, d: Result<Delivery>) -> Result<WebhookAction> {
    let secret = input
        .usable()
        .get(which)
        .map(|s| (*s).clone())
        .unwrap_or_default();
    let bad = |m: &str| CoreError::new("webhook_payload_invalid", m.to_string());
    let d = d?;
    let event = d
        .event
        .get()
        .ok_or_else(|| bad("the webhook has no event"))?;
    // Zoom's time for the event itself (ms), for when the object names none.
    let event_at = d.event_ts.get().map(|ms| ms.div_euclid(1000));
    let payload = d.payload.get().unwrap_or_default();
    let object = payload.object.get().unwrap_or_default();
    let meeting_id = object.id.get();
    let meeting_id = || meeting_id.ok_or_else(|| bad("the meeting event has no usable meeting id"));
    Ok(match event.as_str() {
        "endpoint.url_validation" => {
            let plain = payload
                .plain_token
                .get()
                .filter(|t| is_plain_token(t))
                .ok_or_else(|| {
                    CoreError::new(
                        "webhook_plain_token_invalid",
                        "plainToken must be 1 to 64 letters, digits, _ or -",
                    )
                })?;
            WebhookAction::UrlValidation {
                encrypted_token: encode_hex(&mac(&secret, plain.as_bytes())),
                plain_token: plain,
            }
        }
        "meeting.started" => WebhookAction::MeetingStarted {
            meeting_id: meeting_id()?,
            at: time_of(object.start_time.get()).or(event_at),
        },
        "meeting.ended" => WebhookAction::MeetingEnded {
            meeting_id: meeting_id()?,
            at: time_of(object.end_time.get()).or(event_at),
        },
        "meeting.participant_joined"
        | "meeting.participant_left"
        | "meeting.participant_put_in_waiting_room"
        | "meeting.participant_jbh_waiting"
        | "meeting.participant_admitted" => {
            let p = object.participant.get().unwrap_or_default();
            let (change, when) = match event.as_str() {
                "meeting.participant_joined" => (ParticipantChange::Joined, p.join_time),
                "meeting.participant_left" => (ParticipantChange::Left, p.leave_time),
                "meeting.participant_admitted" => (ParticipantChange::Admitted, p.date_time),
                _ => (ParticipantChange::Waiting, p.date_time),
            };
            let text = |v: Lenient<String>| {
                v.get()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty() && s.len() <= 320)
            };
            WebhookAction::Participant {
                meeting_id: meeting_id()?,
                change,
                participant: Participant {
                    zoom_user_id: text(p.id),
                    email: text(p.email).map(|e| e.to_ascii_lowercase()),
                    registrant_id: text(p.registrant_id),
                },
                at: time_of(when.get()).or(event_at),
            }
        }
        "meeting.deleted" => WebhookAction::MeetingDeleted {
            meeting_id: meeting_id()?,
        },
        "meeting.updated" => WebhookAction::MeetingUpdated {
            meeting_id: meeting_id()?,
            start_time: object.start_time.get(),
            duration: object.duration.get(),
            timezone: object.timezone.get(),
        },
        DEAUTHORIZED => WebhookAction::Deauthorize {
            zoom_user_id: payload
                .user_id
                .get()
                .ok_or_else(|| bad("app_deauthorized has no user_id"))?,
            account_id: payload.account_id.get(),
            client_id: payload.client_id.get(),
        },
        other => WebhookAction::Ignore {
            event: other.chars().take(64).collect(),
        },
    })
}

/// A time Zoom wrote as `yyyy-MM-ddTHH:mm:ssZ`.
fn time_of(v: Option<String>) -> Option<i64> {
    v.as_deref().and_then(crate::timefmt::parse_rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(body: &str, ts: &str, sig: &str, now: i64) -> WebhookInput {
        let mut headers = BTreeMap::new();
        headers.insert("X-Zm-Signature".into(), sig.into());
        headers.insert("x-zm-request-timestamp".into(), ts.into());
        WebhookInput {
            headers,
            body: body.into(),
            secrets: vec![Secret::new("current-secret"), Secret::new("old-secret")],
            // The rotation was a minute before the deliveries these tests sign.
            rotated_at: Some(now - 60),
            now,
        }
    }

    /// The settings page tells administrators to subscribe to `EVENTS`: each must be acted on.
    #[test]
    fn every_event_to_subscribe_to_is_acted_on() {
        for event in EVENTS {
            let body = json!({"event": event, "event_ts": 1_000_000,
                "payload": {"user_id": "zu1", "object": {"id": "85746065", "participant": {"id": "p1"}}}})
            .to_string();
            let sig = sign(&Secret::new("current-secret"), "1000", &body);
            let handled = handle(&input(&body, "1000", &sig, 1000)).unwrap();
            assert!(
                !matches!(handled.action, WebhookAction::Ignore { .. }),
                "{event}"
            );
        }
    }

    #[test]
    fn accepts_current_and_previous_secret() {
        let body =
            json!({"event":"meeting.started","payload":{"object":{"id":"85746065"}}}).to_string();
        let sig = sign(&Secret::new("old-secret"), "1000", &body);
        assert_eq!(verify(&input(&body, "1000", &sig, 1000)).unwrap(), 1);
        let handled = handle(&input(&body, "1000", &sig, 1000)).unwrap();
        assert!(
            matches!(handled.action, WebhookAction::MeetingStarted { meeting_id, .. } if meeting_id.as_str() == "85746065")
        );
    }

    /// Decided in PHP before (`time() + DAY_IN_SECONDS` stored at the rotation): the rule
    /// for how long a replaced secret verifies is the core's.
    #[test]
    fn the_previous_secret_verifies_for_a_day_after_the_rotation_and_not_after() {
        let body = json!({"event":"meeting.ended","payload":{"object":{"id":"1"}}}).to_string();
        let old = sign(&Secret::new("old-secret"), "500000", &body);
        let current = sign(&Secret::new("current-secret"), "500000", &body);
        let at = |rotated_at: Option<i64>, sig: &str| {
            let mut i = input(&body, "500000", sig, 500_000);
            i.rotated_at = rotated_at;
            verify(&i).map_err(|e| e.code)
        };
        let day = PREVIOUS_SECRET_GRACE;
        assert_eq!(at(Some(500_000 - day + 1), &old), Ok(1));
        assert_eq!(
            at(Some(500_000 - day), &old).unwrap_err(),
            "webhook_signature_invalid"
        );
        // No rotation time: the previous secret does not verify at all.
        assert_eq!(at(None, &old).unwrap_err(), "webhook_signature_invalid");
        // The current one verifies whatever the rotation's time.
        assert_eq!(at(Some(500_000 - day), &current), Ok(0));
        assert_eq!(at(None, &current), Ok(0));
    }

    /// A current secret that cannot be read (stored under a key since lost) comes as empty:
    /// the previous one must not take its place once its day is over.
    #[test]
    fn an_unreadable_current_secret_does_not_make_the_previous_one_current() {
        let body = json!({"event":"meeting.ended","payload":{"object":{"id":"1"}}}).to_string();
        let old = sign(&Secret::new("old-secret"), "500000", &body);
        let mut i = input(&body, "500000", &old, 500_000);
        i.secrets[0] = Secret::new("");
        i.rotated_at = Some(500_000 - PREVIOUS_SECRET_GRACE);
        assert_eq!(verify(&i).unwrap_err().code, "webhook_secret_missing");
        i.rotated_at = Some(500_000 - 60);
        assert_eq!(verify(&i).unwrap(), 0);
    }

    /// Found by the abuse review: an exact replay inside the window was applied again.
    #[test]
    fn a_replay_names_the_same_delivery_and_a_new_delivery_another() {
        let body =
            json!({"event":"meeting.ended","event_ts":1_000_123,"payload":{"object":{"id":"1"}}})
                .to_string();
        let secret = Secret::new("current-secret");
        let first = handle(&input(&body, "1000", &sign(&secret, "1000", &body), 1000)).unwrap();
        let replay = handle(&input(&body, "1000", &sign(&secret, "1000", &body), 1010)).unwrap();
        let again = handle(&input(&body, "1005", &sign(&secret, "1005", &body), 1010)).unwrap();
        assert_eq!(first.delivery, replay.delivery);
        assert_ne!(first.delivery, again.delivery);
        assert_eq!(first.event_ts, Some(1_000_123));
    }

    #[test]
    fn stale_or_wrong_signature_is_refused() {
        let body = "{}";
        let sig = sign(&Secret::new("current-secret"), "1000", body);
        assert_eq!(
            verify(&input(body, "1000", &sig, 1301)).unwrap_err().code,
            "webhook_timestamp_stale"
        );
        let other = sign(&Secret::new("attacker"), "1000", body);
        assert_eq!(
            verify(&input(body, "1000", &other, 1000)).unwrap_err().code,
            "webhook_signature_invalid"
        );
    }

    /// Found by the bit-flip property test: `a` -> `A` in the hex still decoded to the same MAC.
    #[test]
    fn uppercase_hex_signature_is_refused() {
        let body = "{}";
        let sig = sign(&Secret::new("current-secret"), "1000", body);
        assert!(verify(&input(body, "1000", &sig, 1000)).is_ok());
        let upper = format!("v0={}", sig[3..].to_ascii_uppercase());
        assert_ne!(upper, sig);
        assert_eq!(
            verify(&input(body, "1000", &upper, 1000)).unwrap_err().code,
            "webhook_signature_invalid"
        );
    }

    #[test]
    fn url_validation_is_not_a_signing_oracle() {
        let body = json!({"event":"endpoint.url_validation","payload":{"plainToken":"v0:1000:{\"event\":\"meeting.deleted\"}"}}).to_string();
        let sig = sign(&Secret::new("current-secret"), "1000", &body);
        assert_eq!(
            handle(&input(&body, "1000", &sig, 1000)).unwrap_err().code,
            "webhook_plain_token_invalid"
        );
        let body = json!({"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}).to_string();
        let sig = sign(&Secret::new("current-secret"), "1000", &body);
        let WebhookAction::UrlValidation {
            encrypted_token, ..
        } = handle(&input(&body, "1000", &sig, 1000)).unwrap().action
        else {
            panic!("expected url validation")
        };
        assert_eq!(
            encrypted_token,
            encode_hex(&mac(
                &Secret::new("current-secret"),
                b"qgg8vlvZRS6UYooatFL8Aw"
            ))
        );
    }
}
