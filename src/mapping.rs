//! Mapping rows for `{prefix}kc_appointment_zoom_mappings`: their shape (a pending row
//! carries an opaque correlation reference before Zoom is called, so an interrupted create
//! is recovered rather than repeated), how fresh a host's start link is, and webhook events
//! on a row. Reserving, activating, recovering and failing a row are `lifecycle.step`'s.

use crate::error::{CoreError, Result};
use crate::json::FromJson;
use serde::Serialize;
use serde_json::Value;

/// How long a pending reservation is taken to mean "another worker is creating it now".
pub const DEFAULT_PENDING_GRACE: i64 = 120;
/// The longest a host start link is shown without being fetched again.
pub const DEFAULT_START_LINK_MAX_AGE: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Active,
    Failed,
    Cancelled,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct MappingRow {
    pub appointment_id: u64,
    pub doctor_id: Option<u64>,
    pub patient_id: Option<u64>,
    /// The Zoom host the meeting was created under (`me`, a user id or an email).
    pub host: Option<String>,
    pub status: Status,
    pub correlation_ref: String,
    pub zoom_id: Option<String>,
    pub join_url: Option<String>,
    pub start_url: Option<String>,
    pub password: Option<String>,
    pub start_time: Option<String>,
    pub duration: Option<i64>,
    pub timezone: Option<String>,
    /// Zoom's live state from webhooks: `waiting`, `started` or `ended`.
    pub meeting_state: Option<String>,
    pub start_url_fetched_at: Option<i64>,
    pub last_error: Option<String>,
    pub updated_at: i64,
    /// Bumped by every write; the host writes with `WHERE version = <the one it read>`.
    #[serde(default)]
    pub version: u64,
    /// Work still owed for this row (a retry resumes it); `None` when settled.
    pub intent: Option<Intent>,
    /// Consecutive transient failures of the current work.
    #[serde(default)]
    pub attempt: u32,
    /// When the queued retry runs (for administrators' screens).
    pub next_attempt_at: Option<i64>,
    /// When the current work began: retries stop after `lifecycle::MAX_AGE`.
    pub work_since: Option<i64>,
    /// A create carrying `correlation_ref` may have reached Zoom and is not accounted for:
    /// look for it (list by reference) before creating again or giving up.
    #[serde(default)]
    pub unconfirmed: bool,
    /// A worker is calling Zoom for this row until then; others wait instead of calling too.
    pub claimed_until: Option<i64>,
    /// The meeting was made where KiviCare sends no mail: send the links.
    #[serde(default)]
    pub needs_announce: bool,
    /// Zoom's time (ms) of the last webhook event applied: older ones are ignored.
    pub last_event_at: Option<i64>,
    /// The patient registered on this meeting (the clinic's policy): their registrant id,
    /// their own join link, and the email it was made for. Cleared with the meeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_join_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_email: Option<String>,
}

impl MappingRow {
    /// A pending row with nothing else known yet: no reference, no meeting, nothing owed.
    pub fn new(appointment_id: u64, now: i64) -> Self {
        Self {
            appointment_id,
            doctor_id: None,
            patient_id: None,
            host: None,
            status: Status::Pending,
            correlation_ref: String::new(),
            zoom_id: None,
            join_url: None,
            start_url: None,
            password: None,
            start_time: None,
            duration: None,
            timezone: None,
            meeting_state: None,
            start_url_fetched_at: None,
            last_error: None,
            updated_at: now,
            version: 0,
            intent: None,
            attempt: 0,
            next_attempt_at: None,
            work_since: None,
            unconfirmed: false,
            claimed_until: None,
            needs_announce: false,
            last_event_at: None,
            registrant_id: None,
            patient_join_url: None,
            registered_email: None,
        }
    }
}

/// The words of a meeting topic, where a correlation reference is looked for.
pub fn topic_words(topic: &str) -> impl Iterator<Item = &str> {
    topic.split(|c: char| c.is_whitespace() || "[]()".contains(c))
}

/// Whether a topic carries the reference as a whole word (never a prefix of a longer one).
pub fn carries_reference(topic: &str, reference: &str) -> bool {
    reference.len() >= 8 && topic_words(topic).any(|w| w == reference)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Make sure the appointment has a meeting (booking, confirmation, payment).
    Ensure,
    /// Replace the meeting with a new one (KiviCare's "regenerate").
    Regenerate,
    /// Times changed: move the meeting.
    Reschedule,
    /// The appointment was cancelled.
    Cancel,
    /// The appointment (or its patient) was deleted.
    Delete,
    /// Nightly reconcile: read the meeting at Zoom, then make sure it matches the
    /// appointment (made again if Zoom lost it, moved if its time drifted).
    Verify,
    /// KiviCare changed the appointment's status (`appointment.status`, read after the
    /// change): the step decides what it asks for. The step never writes it on a row; one
    /// the host recorded while the core was unavailable is read as what the status asks now.
    StatusChanged,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct StartLinkInput {
    pub row: MappingRow,
    pub now: i64,
    pub max_age: Option<i64>,
    /// After a `fetch`: the `start_url` of the meeting `meeting.get` answered (absent or
    /// empty when Zoom gave none).
    pub fetched_start_url: Option<String>,
    /// After a `fetch`: Zoom answered that the meeting no longer exists.
    #[serde(default)]
    pub meeting_gone: bool,
}

// One answer per call, written out and let go at once: a box would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StartLink {
    /// Show the stored link to the host.
    Fresh { start_url: String },
    /// Fetch the meeting (`meeting.get`), then ask again with its `fetched_start_url`.
    Fetch { zoom_id: String },
    /// Zoom gave a new link: write the row (compare-and-swap on the version read; losing
    /// to another write only means the next view fetches again), then show its `start_url`.
    Store { write: MappingRow },
    /// No live meeting, or Zoom gave no link for it: there is no start link to show.
    Unavailable,
    /// Zoom no longer has the meeting (deleted there, and no webhook said so): run the
    /// lifecycle with intent `verify`, which makes it again for an appointment that still
    /// needs one and tells the patient, then ask again once with the row it leaves.
    Verify,
}

pub fn start_link(input: &StartLinkInput) -> StartLink {
    let max_age = input
        .max_age
        .unwrap_or(DEFAULT_START_LINK_MAX_AGE)
        .clamp(0, 3600);
    let row = &input.row;
    let (Status::Active, Some(zoom_id)) = (row.status, row.zoom_id.clone()) else {
        return StartLink::Unavailable;
    };
    if input.meeting_gone {
        return StartLink::Verify;
    }
    match (
        &input.fetched_start_url,
        &row.start_url,
        row.start_url_fetched_at,
    ) {
        (Some(url), ..) if url.is_empty() => StartLink::Unavailable,
        (Some(url), ..) => {
            let mut write = row.clone();
            write.start_url = Some(url.clone());
            write.start_url_fetched_at = Some(input.now);
            write.updated_at = input.now;
            StartLink::Store { write }
        }
        (None, Some(url), Some(at))
            if !url.is_empty() && input.now - at < max_age && at <= input.now =>
        {
            StartLink::Fresh {
                start_url: url.clone(),
            }
        }
        _ => StartLink::Fetch { zoom_id },
    }
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct ApplyEventInput {
    pub row: MappingRow,
    pub event: Value,
    pub now: i64,
}

/// The row after a webhook event for its meeting.
pub fn apply_event(input: &ApplyEventInput) -> Result<MappingRow> {
    let mut row = input.row.clone();
    // Zoom's deliveries can arrive late: an event older than the last one applied (a
    // "started" delivered after "ended") changes nothing.
    let at = input.event.get("event_ts").and_then(Value::as_i64);
    if let (Some(at), Some(last)) = (at, row.last_event_at) {
        // Strictly older only: two events in the same millisecond both apply, in order of
        // arrival (an exact replay is refused before this, by its delivery).
        if at < last {
            return Ok(row);
        }
    }
    if at.is_some() {
        row.last_event_at = at;
    }
    let event = input
        .event
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| CoreError::field("event_invalid", "event", "event has no action"))?;
    let s = |k: &str| {
        input
            .event
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match event {
        "meeting_started" => row.meeting_state = Some("started".into()),
        "meeting_ended" => row.meeting_state = Some("ended".into()),
        "meeting_deleted" => {
            if row.status == Status::Active {
                row.status = Status::Deleted;
            }
            // The meeting is gone: the row no longer names it, so a delete still owed is
            // done and a booked appointment gets a new one (lifecycle.step).
            row.zoom_id = None;
            row.join_url = None;
            row.start_url = None;
            row.start_url_fetched_at = None;
            row.meeting_state = None;
        }
        "meeting_updated" => {
            row.start_time = s("start_time").or(row.start_time);
            row.duration = input
                .event
                .get("duration")
                .and_then(Value::as_i64)
                .or(row.duration);
            row.timezone = s("timezone").or(row.timezone);
        }
        _ => {
            return Err(CoreError::field(
                "event_invalid",
                "event",
                "event does not apply to a meeting row",
            ))
        }
    }
    row.updated_at = input.now;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: Status, zoom_id: Option<&str>, updated_at: i64) -> MappingRow {
        let mut r = MappingRow::new(1, updated_at);
        (r.doctor_id, r.patient_id, r.host) = (Some(2), Some(3), Some("me".into()));
        r.correlation_ref = format!("kc-{}", "00".repeat(10));
        r.status = status;
        r.zoom_id = zoom_id.map(str::to_string);
        r
    }

    #[test]
    fn start_link_is_refetched_when_old() {
        let mut r = row(Status::Active, Some("9"), 0);
        r.start_url = Some("https://zoom.us/s/9?zak=x".into());
        r.start_url_fetched_at = Some(1000);
        let fresh = start_link(&StartLinkInput {
            row: r.clone(),
            now: 1100,
            max_age: None,
            fetched_start_url: None,
            meeting_gone: false,
        });
        assert!(matches!(fresh, StartLink::Fresh { .. }));
        let old = start_link(&StartLinkInput {
            row: r.clone(),
            now: 1300,
            max_age: None,
            fetched_start_url: None,
            meeting_gone: false,
        });
        assert_eq!(
            old,
            StartLink::Fetch {
                zoom_id: "9".into()
            }
        );
        let fetched = |url: &str| {
            start_link(&StartLinkInput {
                row: r.clone(),
                now: 1300,
                max_age: None,
                fetched_start_url: Some(url.into()),
                meeting_gone: false,
            })
        };
        let StartLink::Store { write } = fetched("https://zoom.us/s/9?zak=y") else {
            panic!("a fetched link is stored");
        };
        assert_eq!(
            write.start_url.as_deref(),
            Some("https://zoom.us/s/9?zak=y")
        );
        assert_eq!(
            (write.start_url_fetched_at, write.updated_at, write.version),
            (Some(1300), 1300, r.version)
        );
        assert_eq!(fetched(""), StartLink::Unavailable, "Zoom gave no link");
    }

    /// Found by review: a meeting deleted at Zoom behind our back (no webhook) left the
    /// doctor's Start with "the meeting no longer exists" until the nightly reconcile.
    #[test]
    fn a_start_link_for_a_meeting_zoom_lost_asks_for_the_meeting_to_be_verified() {
        let gone = |status: Status| {
            let mut r = row(status, Some("9"), 0);
            r.start_url_fetched_at = Some(1000);
            start_link(&StartLinkInput {
                row: r,
                now: 1300,
                max_age: None,
                fetched_start_url: None,
                meeting_gone: true,
            })
        };
        assert_eq!(gone(Status::Active), StartLink::Verify);
        // A meeting no longer live has no start link, gone or not.
        assert_eq!(gone(Status::Cancelled), StartLink::Unavailable);
    }
}
