//! The visit itself, from Zoom's events: who joined and left when, the patient waiting, and
//! what it means for the appointment (checked in, checked out, a no-show).
//!
//! The host keeps one visit record per appointment beside its mapping row, and for each
//! verified participant or meeting event asks [`apply`] for the next record and what to do.
//! Who is who: the doctor is the participant whose Zoom user id or email is one of the
//! host's; the patient is the one whose registrant id is the row's (certain: they joined
//! through their own registration link), else whose email is the patient's (as certain as
//! the email Zoom reports, which it does for signed-in users), else, only when the patient
//! was not registered, any other participant (presumed: a telemedicine visit has two people).

use crate::error::Result;
use crate::json::FromJson;
use crate::meeting::MeetingId;
use crate::webhook::{Participant, ParticipantChange};
use serde::Serialize;

/// KiviCare's appointment statuses the visit reads and sets.
pub const BOOKED: u16 = 1;
pub const CHECKED_OUT: u16 = 3;
pub const CHECKED_IN: u16 = 4;

/// One appointment's visit, as the host stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, FromJson)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub appointment_id: u64,
    /// The meeting this record is about: a new meeting (regenerate) starts a new record.
    pub zoom_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// First join, last leave, and whether they are in now (as of `*_seen_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_joined_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_left_at: Option<i64>,
    #[serde(default)]
    pub patient_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_seen_at: Option<i64>,
    /// How the patient was told apart: `registrant`, `email` or `presumed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_known_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doctor_joined_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doctor_left_at: Option<i64>,
    #[serde(default)]
    pub doctor_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doctor_seen_at: Option<i64>,
    /// Since when the patient waits to be let in (the doctor's "your patient is waiting").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<i64>,
    /// Seconds both were in the meeting, once it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub together_seconds: Option<i64>,
    /// `checked_in`, `checked_out` or `no_show`; `checkin_refused` or `checkout_refused` when
    /// KiviCare did not take the status change the visit asked for (someone sets it by hand).
    /// Sixteen characters at most: the host's column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Bumped by every change: the host writes with a compare-and-swap on it.
    #[serde(default)]
    pub version: u64,
}

/// A meeting or participant event, as `webhook.handle` answered it.
#[derive(Debug, Clone, FromJson)]
pub struct VisitEvent {
    /// meeting_started | meeting_ended | participant (Zoom's, as `webhook.handle` answered),
    /// or status_refused: the host's report that KiviCare did not take the check-in or
    /// check-out ([`VisitEffect::CheckIn`], [`VisitEffect::CheckOut`]) a step asked for.
    pub action: String,
    pub meeting_id: MeetingId,
    pub change: Option<ParticipantChange>,
    pub participant: Option<Participant>,
    pub at: Option<i64>,
    /// status_refused: the status KiviCare refused (4 checked in, 3 checked out).
    pub status: Option<u16>,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    pub appointment_id: u64,
    /// The visit so far, if any.
    pub visit: Option<Visit>,
    /// The mapping row's meeting, and the patient's registrant id when they were registered.
    pub zoom_id: String,
    pub registrant_id: Option<String>,
    pub patient_email: Option<String>,
    /// The doctor's Zoom user ids and emails (whoever hosts the meeting).
    #[serde(default)]
    pub host_ids: Vec<String>,
    /// KiviCare's status for the appointment now.
    pub appointment_status: Option<u16>,
    /// The clinic's policy: check patients in and out from Zoom's events.
    #[serde(default = "crate::json::yes")]
    pub check_in: bool,
    pub event: VisitEvent,
    pub now: i64,
}

/// What the host does after writing the record (in this order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum VisitEffect {
    /// Set the appointment to `status` (KiviCare's checked in) through KiviCare's own status
    /// update, so its hooks and mails run. If KiviCare refuses, apply a `status_refused` event
    /// with that `status` to the record just written.
    CheckIn { status: u16 },
    /// Set it to `status` (checked out) the same way (refused: `status_refused` with it).
    CheckOut { status: u16 },
    /// Tell the doctor their patient is waiting (a notice with the Start button on their
    /// screens; a mail if they asked for one). Once per wait.
    PatientWaiting { since: i64 },
    /// The wait is over (let in, joined, or the meeting ended): clear that notice.
    WaitOver,
    /// The meeting ended with the doctor there and no patient: administrators see a no-show.
    NoShow,
}

impl VisitEffect {
    /// The check-in and check-out as the host is asked for them: KiviCare's status spelled
    /// here, so the host sets and reports back a number it never names itself.
    pub const CHECK_IN: Self = Self::CheckIn { status: CHECKED_IN };
    pub const CHECK_OUT: Self = Self::CheckOut {
        status: CHECKED_OUT,
    };
}

#[derive(Debug, PartialEq, Serialize)]
pub struct VisitStep {
    /// The record to write; absent when the event changes nothing.
    pub write: Option<Visit>,
    pub effects: Vec<VisitEffect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Doctor,
    Patient(&'static str),
    Other,
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn who(input: &VisitInput, p: &Participant) -> Who {
    let host = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| input.host_ids.iter().any(|h| same(h, v)))
    };
    if host(&p.zoom_user_id) || host(&p.email) {
        return Who::Doctor;
    }
    if let (Some(mine), Some(theirs)) = (&input.registrant_id, &p.registrant_id) {
        if mine == theirs {
            return Who::Patient("registrant");
        }
    }
    if let (Some(mine), Some(theirs)) = (&input.patient_email, &p.email) {
        if same(mine, theirs) {
            return Who::Patient("email");
        }
    }
    if input.registrant_id.is_none() {
        return Who::Patient("presumed");
    }
    Who::Other
}

/// The `visit.apply` operation.
pub fn apply(input: &VisitInput) -> Result<VisitStep> {
    let ev = &input.event;
    // Another meeting's event (an older meeting of a regenerated appointment): nothing.
    if ev.meeting_id.as_str() != input.zoom_id {
        return Ok(VisitStep {
            write: None,
            effects: Vec::new(),
        });
    }
    let fresh = Visit {
        appointment_id: input.appointment_id,
        zoom_id: input.zoom_id.clone(),
        ..Visit::default()
    };
    // A record of an earlier meeting does not carry over to this one.
    let before = match &input.visit {
        Some(v) if v.zoom_id == input.zoom_id => v.clone(),
        _ => fresh,
    };
    let mut v = before.clone();
    let at = ev.at.unwrap_or(input.now);
    let mut effects = Vec::new();
    match (ev.action.as_str(), ev.change, &ev.participant) {
        ("meeting_started", _, _) => {
            v.started_at = Some(v.started_at.map_or(at, |s| s.min(at)));
        }
        ("meeting_ended", _, _) => ended(input, &mut v, at, &mut effects),
        // The visit said checked in (or out) and KiviCare did not take it: say so, rather than
        // claim a status KiviCare does not have (and check out no one KiviCare has not
        // checked in).
        ("status_refused", _, _) => {
            let refused = match ev.status {
                Some(CHECKED_IN) => Some(("checked_in", "checkin_refused")),
                Some(CHECKED_OUT) => Some(("checked_out", "checkout_refused")),
                _ => None,
            };
            if let Some((claimed, instead)) = refused {
                if v.outcome.as_deref() == Some(claimed) {
                    v.outcome = Some(instead.into());
                }
            }
        }
        ("participant", Some(change), Some(p)) => match who(input, p) {
            Who::Doctor => presence(
                change,
                at,
                v.ended_at,
                &mut v.doctor_joined_at,
                &mut v.doctor_left_at,
                &mut v.doctor_in,
                &mut v.doctor_seen_at,
            ),
            Who::Patient(how) => {
                if v.patient_known_by.is_none() || change == ParticipantChange::Joined {
                    v.patient_known_by = Some(how.to_string());
                }
                patient(input, &mut v, change, at, &mut effects);
            }
            Who::Other => {}
        },
        _ => {}
    }
    // A participant's event that arrives after the meeting's end (late, out of order: Zoom
    // retries a delivery minutes later) settles the visit again, as if it had come in time.
    if ev.action == "participant" && v.ended_at.is_some() {
        settle(input, &mut v, &mut effects);
    }
    if v == before {
        return Ok(VisitStep {
            write: None,
            effects,
        });
    }
    v.version = before.version + 1;
    Ok(VisitStep {
        write: Some(v),
        effects,
    })
}

/// First join, last leave; in or out as of the latest change (events arrive out of order).
/// `ended`: when the meeting ended, if it has; a leave recorded then (see [`ended`]) gives way
/// to the participant's own, earlier one when that arrives late.
fn presence(
    change: ParticipantChange,
    at: i64,
    ended: Option<i64>,
    joined: &mut Option<i64>,
    left: &mut Option<i64>,
    inside: &mut bool,
    seen: &mut Option<i64>,
) {
    let latest = seen.map_or(true, |s| at >= s);
    // A change from before the end that arrives after it.
    let late = ended.filter(|&e| at <= e);
    match change {
        ParticipantChange::Joined => {
            *joined = Some(joined.map_or(at, |j| j.min(at)));
            if latest {
                // Nobody is in a meeting that has ended.
                *inside = late.is_none();
                *seen = Some(at);
            }
            // In from then until a later leave, or until the end.
            if let Some(end) = late {
                if left.map_or(true, |l| l < at) {
                    *left = Some(end);
                }
            }
        }
        ParticipantChange::Left => {
            let from_the_end = ended.is_some() && *left == ended;
            *left = Some(match *left {
                Some(l) if from_the_end && latest => l.min(at),
                Some(l) => l.max(at),
                None => at,
            });
            if latest {
                *inside = false;
                *seen = Some(at);
            }
        }
        ParticipantChange::Waiting | ParticipantChange::Admitted => {}
    }
}

fn patient(
    input: &VisitInput,
    v: &mut Visit,
    change: ParticipantChange,
    at: i64,
    effects: &mut Vec<VisitEffect>,
) {
    match change {
        ParticipantChange::Waiting => {
            // Waiting before the meeting ended, and not already in it: tell the doctor once.
            // A wait from before the patient's latest join, leave or letting in is over
            // already (a delivery that arrived late).
            let stale = v.patient_seen_at.is_some_and(|s| at < s);
            if v.ended_at.is_none() && !v.patient_in && !stale && v.waiting_since.is_none() {
                v.waiting_since = Some(at);
                effects.push(VisitEffect::PatientWaiting { since: at });
            }
        }
        ParticipantChange::Admitted => {
            if v.waiting_since.take().is_some() {
                effects.push(VisitEffect::WaitOver);
            }
            // Let in is a change of theirs too: a wait from before it is over.
            if v.patient_seen_at.map_or(true, |s| at >= s) {
                v.patient_seen_at = Some(at);
            }
        }
        ParticipantChange::Joined | ParticipantChange::Left => {
            let was_joined = v.patient_joined_at.is_some();
            presence(
                change,
                at,
                v.ended_at,
                &mut v.patient_joined_at,
                &mut v.patient_left_at,
                &mut v.patient_in,
                &mut v.patient_seen_at,
            );
            if change == ParticipantChange::Joined {
                if v.waiting_since.take().is_some() {
                    effects.push(VisitEffect::WaitOver);
                }
                // The patient is here: checked in, once, from a booked appointment only. A
                // no-show is undone by a join that was late to arrive.
                let undecided = v.outcome.is_none() || v.outcome.as_deref() == Some("no_show");
                if !was_joined
                    && undecided
                    && input.check_in
                    && input.appointment_status == Some(BOOKED)
                {
                    v.outcome = Some("checked_in".into());
                    effects.push(VisitEffect::CHECK_IN);
                } else if !was_joined && undecided {
                    // Already checked in at the clinic (or the policy is off): the visit
                    // still counts as attended.
                    v.outcome = Some("checked_in".into());
                }
            }
        }
    }
}

fn ended(input: &VisitInput, v: &mut Visit, at: i64, effects: &mut Vec<VisitEffect>) {
    if v.ended_at.is_some_and(|e| e >= at) {
        return; // already ended (a repeat, or an older "ended")
    }
    v.ended_at = Some(at);
    if v.waiting_since.take().is_some() {
        effects.push(VisitEffect::WaitOver);
    }
    // Whoever was still in left when the meeting ended: Zoom's own "left" for them may come
    // late or not at all (not subscribed), and the visit should not show them in for ever.
    for (inside, left) in [
        (&mut v.doctor_in, &mut v.doctor_left_at),
        (&mut v.patient_in, &mut v.patient_left_at),
    ] {
        if std::mem::take(inside) {
            *left = Some(left.map_or(at, |l| l.max(at)));
        }
    }
    settle(input, v, effects);
}

/// What a meeting that has ended means for the visit: the time together and the check-out
/// when both were there, a no-show when the doctor was there alone. Run at the end, and
/// again for each participant's event that arrives after it.
fn settle(input: &VisitInput, v: &mut Visit, effects: &mut Vec<VisitEffect>) {
    let Some(end) = v.ended_at else { return };
    let Some(both) = together(v, end) else {
        if v.doctor_joined_at.is_some() && v.patient_joined_at.is_none() && v.outcome.is_none() {
            v.outcome = Some("no_show".into());
            effects.push(VisitEffect::NoShow);
        }
        return;
    };
    v.together_seconds = Some(both);
    // Checked in by now: before this event, or by it (a late join).
    let checked_in =
        input.appointment_status == Some(CHECKED_IN) || effects.contains(&VisitEffect::CHECK_IN);
    if input.check_in && v.outcome.as_deref() == Some("checked_in") && checked_in {
        v.outcome = Some("checked_out".into());
        effects.push(VisitEffect::CHECK_OUT);
    }
}

/// Seconds both were in a meeting that ended at `end`: from the later first join to the
/// earlier last leave. None unless both joined.
fn together(v: &Visit, end: i64) -> Option<i64> {
    let (dj, pj) = (v.doctor_joined_at?, v.patient_joined_at?);
    let until = v
        .doctor_left_at
        .unwrap_or(end)
        .min(v.patient_left_at.unwrap_or(end));
    Some((until - dj.max(pj)).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::read;
    use serde_json::json;

    fn step(visit: Option<Visit>, status: u16, event: serde_json::Value) -> VisitStep {
        let mut input = json!({
            "appointment_id": 42,
            "zoom_id": "85000000001",
            "patient_email": "pat@example.org",
            "host_ids": ["HOSTuser1", "doc@example.org"],
            "appointment_status": status,
            "event": event,
            "now": 2_000,
        });
        if let Some(v) = visit {
            input["visit"] = serde_json::to_value(v).unwrap();
        }
        apply(&read::<VisitInput>(input).unwrap()).unwrap()
    }

    fn ended_event(at: i64) -> serde_json::Value {
        json!({"action": "meeting_ended", "meeting_id": "85000000001", "at": at})
    }

    fn joined(who: serde_json::Value, change: &str, at: i64) -> serde_json::Value {
        json!({"action": "participant", "meeting_id": "85000000001", "change": change, "participant": who, "at": at})
    }

    /// Found by review: when KiviCare refused the check-in, the visit still said checked in
    /// (and the status screen with it) while KiviCare's appointment stayed booked.
    #[test]
    fn a_status_kivicare_refused_is_recorded_as_refused_and_nothing_is_checked_out() {
        let patient = json!({"email": "pat@example.org"});
        let doctor = json!({"zoom_user_id": "HOSTuser1"});
        let s = step(None, BOOKED, joined(doctor, "joined", 1_000));
        let s = step(s.write, BOOKED, joined(patient, "joined", 1_010));
        assert_eq!(s.effects, vec![VisitEffect::CHECK_IN]);
        let refused = |status: u16| json!({"action": "status_refused", "meeting_id": "85000000001", "status": status});
        // A refusal of the other status changes nothing.
        assert!(step(s.write.clone(), BOOKED, refused(CHECKED_OUT))
            .write
            .is_none());
        let r = step(s.write, BOOKED, refused(CHECKED_IN));
        assert!(r.effects.is_empty());
        let v = r.write.unwrap();
        assert_eq!(v.outcome.as_deref(), Some("checkin_refused"));
        // KiviCare still says booked: the end checks no one out.
        let end = step(Some(v), BOOKED, ended_event(2_000));
        assert!(!end.effects.contains(&VisitEffect::CHECK_OUT));
        let v = end.write.unwrap();
        assert_eq!(v.outcome.as_deref(), Some("checkin_refused"));
        assert_eq!(v.together_seconds, Some(990));
    }

    #[test]
    fn a_visit_goes_waiting_checked_in_checked_out_with_its_times() {
        let patient = json!({"email": "PAT@example.org"});
        let doctor = json!({"zoom_user_id": "HOSTuser1"});
        let s = step(None, BOOKED, joined(patient.clone(), "waiting", 1_000));
        assert_eq!(
            s.effects,
            vec![VisitEffect::PatientWaiting { since: 1_000 }]
        );
        let v = s.write.unwrap();
        let s = step(Some(v), BOOKED, joined(doctor.clone(), "joined", 1_060));
        assert!(s.effects.is_empty());
        let s = step(s.write, BOOKED, joined(patient.clone(), "joined", 1_070));
        assert_eq!(
            s.effects,
            vec![VisitEffect::WaitOver, VisitEffect::CHECK_IN]
        );
        let v = s.write.unwrap();
        assert_eq!(v.patient_known_by.as_deref(), Some("email"));
        let s = step(Some(v), CHECKED_IN, ended_event(2_870));
        assert_eq!(s.effects, vec![VisitEffect::CHECK_OUT]);
        let v = s.write.unwrap();
        assert_eq!(v.together_seconds, Some(1_800));
        assert_eq!(v.outcome.as_deref(), Some("checked_out"));
        assert_eq!(v.version, 4);
    }

    #[test]
    fn the_end_of_the_meeting_is_when_whoever_was_still_in_left() {
        let (patient, doctor) = (
            json!({"email": "pat@example.org"}),
            json!({"zoom_user_id": "HOSTuser1"}),
        );
        let s = step(None, BOOKED, joined(doctor, "joined", 1_060));
        let s = step(s.write, BOOKED, joined(patient.clone(), "joined", 1_070));
        let s = step(s.write, CHECKED_IN, joined(patient, "left", 2_000));
        let ended = ended_event(2_100);
        let v = step(s.write, CHECKED_IN, ended).write.unwrap();
        assert_eq!(
            v.doctor_left_at,
            Some(2_100),
            "no 'left' came for the doctor"
        );
        assert!(!v.doctor_in);
        assert_eq!(
            v.patient_left_at,
            Some(2_000),
            "the patient's own leave is kept"
        );
        assert_eq!(v.together_seconds, Some(930));
    }

    #[test]
    fn a_leave_that_arrives_after_the_end_makes_the_times_exact() {
        let (patient, doctor) = (
            json!({"email": "pat@example.org"}),
            json!({"zoom_user_id": "HOSTuser1"}),
        );
        let s = step(None, BOOKED, joined(doctor.clone(), "joined", 1_000));
        let s = step(s.write, BOOKED, joined(patient.clone(), "joined", 1_010));
        let ended = ended_event(2_000);
        let s = step(s.write, CHECKED_IN, ended.clone());
        let v = s.write.clone().unwrap();
        assert_eq!(
            (v.patient_left_at, v.together_seconds),
            (Some(2_000), Some(990))
        );
        let s = step(s.write, CHECKED_IN, joined(patient.clone(), "left", 1_500));
        let v = s.write.clone().unwrap();
        assert_eq!(
            v.patient_left_at,
            Some(1_500),
            "Zoom's own time, not the end's"
        );
        assert_eq!(v.together_seconds, Some(490));
        // The doctor's late leave, after the end by a clock's skew, keeps the end.
        let s = step(s.write, CHECKED_IN, joined(doctor, "left", 2_003));
        let v = s.write.clone().unwrap_or(v);
        assert_eq!(v.doctor_left_at, Some(2_000));
        // A repeat of the end changes nothing.
        assert_eq!(step(Some(v), CHECKED_IN, ended).write, None);
    }

    #[test]
    fn the_doctor_alone_makes_a_no_show_and_late_events_change_nothing() {
        let doctor = json!({"email": "doc@example.org"});
        let s = step(None, BOOKED, joined(doctor, "joined", 1_000));
        let s = step(s.write, BOOKED, ended_event(1_600));
        assert_eq!(s.effects, vec![VisitEffect::NoShow]);
        let v = s.write.unwrap();
        assert_eq!(v.doctor_left_at, Some(1_600), "in until the end");
        let again = step(Some(v), BOOKED, ended_event(1_500));
        assert_eq!(again.write, None, "an older 'ended' changes nothing");
    }

    #[test]
    fn another_meeting_and_strangers_change_nothing() {
        let s = step(
            None,
            BOOKED,
            json!({"action": "participant", "meeting_id": "85000000999", "change": "joined", "participant": {}, "at": 5}),
        );
        assert_eq!(s.write, None);
        // With a registered patient, someone else is not the patient.
        let mut input = read::<VisitInput>(json!({
            "appointment_id": 42, "zoom_id": "85000000001", "registrant_id": "REG1",
            "host_ids": ["HOSTuser1"], "appointment_status": 1, "now": 9,
            "event": joined(json!({"email": "someone@else.example"}), "joined", 9),
        }))
        .unwrap();
        assert_eq!(apply(&input).unwrap().write, None);
        input.event.participant = Some(Participant {
            registrant_id: Some("REG1".into()),
            ..Participant::default()
        });
        let s = apply(&input).unwrap();
        assert_eq!(s.effects, vec![VisitEffect::CHECK_IN]);
        assert_eq!(
            s.write.unwrap().patient_known_by.as_deref(),
            Some("registrant")
        );
    }

    #[test]
    fn the_policy_off_records_the_visit_but_changes_no_status() {
        let input = read::<VisitInput>(json!({
            "appointment_id": 42, "zoom_id": "85000000001", "check_in": false,
            "appointment_status": 1, "now": 9,
            "event": joined(json!({}), "joined", 9),
        }))
        .unwrap();
        let s = apply(&input).unwrap();
        assert!(s.effects.is_empty());
        let v = s.write.unwrap();
        assert_eq!(v.patient_known_by.as_deref(), Some("presumed"));
        assert!(v.patient_in);
    }
}
