//! An appointment's meeting through its life, one step at a time.
//!
//! The host runs a small loop: read the mapping row, ask [`step`], write the row it answers
//! (a compare-and-swap on `version`; on a lost write, re-read and ask again with the same
//! `last`), then perform the one effect it names and feed the result back as `last`. Every
//! state change, retry, backoff and "what now" is decided here:
//!
//! - the intent a hook or KiviCare asked for is recorded on the row (`intent`) and checked
//!   against the appointment as KiviCare has it *now*, so a retry never outlives its
//!   appointment and cancel or delete supersede pending work;
//! - a worker claims the row before it calls Zoom (`claimed_until`), so two workers never
//!   create for one appointment at once, and a create that may have reached Zoom
//!   (`unconfirmed`) is looked for by its correlation reference before anything else;
//! - transient failures back off exponentially with jitter (entropy in), honour
//!   Retry-After up to a ceiling, wait for 00:00 UTC at the daily cap, and give up after
//!   [`MAX_ATTEMPTS`] or [`MAX_AGE`] with a reason administrators can read.

use crate::api::{Answer, InterpretInput, Operation, Outcome};
use crate::error::{CoreError, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::json::read;
use crate::json::{FromJson, Json};
use crate::mapping::{carries_reference, Intent, MappingRow, Status, DEFAULT_PENDING_GRACE};
use crate::meeting::{parse_meeting, validate_host, AppointmentFacts, MeetingRecord};
use crate::policy::PolicyLayer;
use crate::random::{encode_hex, HostRandom};
use crate::timefmt::{parse_rfc3339, zoom_utc};
use crate::token::{self, Decision, Mode, TokenSet};
use serde::Serialize;

/// Transient failures in a row before the work is given up.
pub const MAX_ATTEMPTS: u32 = 8;
/// The oldest work still retried (seconds since it began): two days spans a daily cap.
pub const MAX_AGE: i64 = 2 * 86_400;
/// First backoff, doubled per attempt up to [`RETRY_CAP`].
pub const RETRY_BASE: i64 = 30;
pub const RETRY_CAP: i64 = 3_600;
/// How long a claim keeps other workers from calling Zoom for the same row: longer than
/// any HTTP timeout the host uses.
pub const CLAIM: i64 = DEFAULT_PENDING_GRACE;
/// Random bytes one step may use: 10 for a correlation reference, 8 for jitter, 16 for a
/// passcode.
pub const RANDOM_BYTES: usize = 34;

/// The appointment as KiviCare has it now (the host reads its table, or trusts what
/// KiviCare passed when the table cannot be read).
#[derive(Debug, Clone, Default, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct AppointmentNow {
    /// False (the default) when the host could not look (KiviCare absent): existence is
    /// then assumed and the facts are what KiviCare passed.
    #[serde(default)]
    pub known: bool,
    #[serde(default = "crate::json::yes")]
    pub exists: bool,
    /// KiviCare's status: 0 cancelled, 1 booked, 2 pending, 3 checked out, 4 checked in.
    pub status: Option<u16>,
    pub doctor_id: Option<u64>,
    pub patient_id: Option<u64>,
    pub start_unix: Option<i64>,
    pub duration_min: Option<i64>,
    pub timezone: Option<String>,
}

impl AppointmentNow {
    fn gone(&self) -> bool {
        self.known && !self.exists
    }
}

/// What the last effect came to.
#[derive(Debug, Clone, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct Last {
    /// The `call` effect this answers, as the step gave it (only its keys below are read).
    pub call: CallEcho,
    /// When the host sent the `request` the step built: Zoom's answer, which this step
    /// interprets itself (one core call per Zoom call instead of two), or
    pub response: Option<HttpResponse>,
    /// why no answer came (timeout, DNS, TLS, reset); or
    pub network_error: Option<String>,
    /// `api.interpret`'s outcome, when the host took the long way (renewed the token,
    /// built, sent, interpreted); or
    pub outcome: Option<OutcomeIn>,
    /// what stopped the host before Zoom answered (no token, lock busy, runtime error).
    pub host_error: Option<HostError>,
}

#[derive(Debug, Clone, FromJson)]
#[from_json(inline)]
pub struct CallEcho {
    pub operation: String,
    pub doctor_id: u64,
    pub meeting_id: Option<String>,
    pub correlation_ref: Option<String>,
    pub host: Option<String>,
    /// Update only: the times that were sent.
    pub sent: Option<Sent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, FromJson)]
#[serde(deny_unknown_fields)]
pub struct Sent {
    pub start_unix: i64,
    pub duration_min: i64,
    pub timezone: String,
}

/// An interpreted Zoom answer (`api.interpret`'s output, read leniently, or the step's own
/// interpretation of `last.response`).
#[derive(Debug, Clone, FromJson)]
pub struct OutcomeIn {
    pub action: String,
    pub result: Option<Answered>,
    pub at: Option<i64>,
    pub reason: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, FromJson)]
#[serde(deny_unknown_fields)]
pub struct HostError {
    pub code: String,
    pub message: String,
    /// Set when the host knows the failure passes (a busy lock): retry then.
    pub retry_at: Option<i64>,
}

/// A `done` outcome's result: as the host handed it back, or as the step read it from Zoom's
/// answer itself.
#[derive(Debug, Clone)]
pub enum Answered {
    Json(Json<'static>),
    Typed(Box<Answer>),
}

impl FromJson for Answered {
    fn from_json(v: Json, _: crate::json::Path) -> Result<Self> {
        Ok(Answered::Json(v.into_owned()))
    }
}

impl Answered {
    /// The meeting of a create or get (borrowed when the step read it itself: the record
    /// carries Zoom's whole `settings`, which a row never keeps).
    fn meeting(&self) -> Option<std::borrow::Cow<'_, MeetingRecord>> {
        match self {
            Answered::Json(j) => parse_meeting(j.clone()).ok().map(std::borrow::Cow::Owned),
            Answered::Typed(a) => match a.as_ref() {
                Answer::Meeting(m) => Some(std::borrow::Cow::Borrowed(m)),
                _ => None,
            },
        }
    }

    /// A page of the host's meetings (those that read as meetings), and the next page's token.
    fn page(&self) -> (Vec<MeetingRecord>, String) {
        match self {
            Answered::Json(j) => (
                j.get("meetings")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| parse_meeting(m.clone()).ok())
                    .collect(),
                j.get("next_page_token")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            Answered::Typed(a) => match a.as_ref() {
                Answer::Page {
                    meetings,
                    next_page_token,
                } => (meetings.clone(), next_page_token.clone()),
                _ => (Vec::new(), String::new()),
            },
        }
    }

    /// A registration's registrant id and the patient's own join link.
    fn registration(&self) -> Option<(String, String)> {
        match self {
            Answered::Json(j) => {
                let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
                Some((text("registrant_id")?, text("join_url")?))
            }
            Answered::Typed(a) => match a.as_ref() {
                Answer::Registration(r) => Some((r.registrant_id.clone(), r.join_url.clone())),
                _ => None,
            },
        }
    }
}

impl OutcomeIn {
    fn with_message(mut self, message: String) -> Self {
        self.message = Some(message);
        self
    }

    /// The outcome as the fold reads it, from the core's own interpretation.
    fn from_outcome(o: Outcome) -> Self {
        let mut out = OutcomeIn {
            action: String::new(),
            result: None,
            at: None,
            reason: None,
            code: None,
            message: None,
        };
        out.action = match o {
            Outcome::Done { result } => {
                out.result = Some(Answered::Typed(result));
                "done"
            }
            Outcome::RefreshThenRetry => "refresh_then_retry",
            Outcome::Reconnect { reason, message } => {
                out.reason = Some(reason.into());
                out.message = Some(message);
                "reconnect"
            }
            Outcome::Gone => "gone",
            Outcome::RetryAt { at, reason } => {
                out.at = Some(at);
                out.reason = Some(reason.into());
                "retry_at"
            }
            Outcome::RecoverThenRetry { at, reason } => {
                out.at = Some(at);
                out.reason = Some(reason.into());
                "recover_then_retry"
            }
            Outcome::CheckStored => "check_stored",
            Outcome::Fail { code, message, .. } => {
                out.code = Some(code);
                out.message = Some(message);
                "fail"
            }
        }
        .into();
        out
    }
}

/// The token the host holds for a doctor, so a step can build its call at once: one core
/// call instead of three (decide the token, build the request, then step).
#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct StepAuth {
    pub doctor_id: u64,
    pub mode: Mode,
    pub token: Option<TokenSet>,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct StepInput {
    pub appointment_id: u64,
    /// What was asked, on a loop's first step only; absent: resume the row's own work.
    pub intent: Option<Intent>,
    pub row: Option<MappingRow>,
    #[serde(default)]
    pub appointment: AppointmentNow,
    /// The Zoom host for the appointment's doctor now; absent when the doctor has no usable
    /// Zoom connection.
    pub host: Option<String>,
    pub last: Option<Last>,
    /// KiviCare mails the links itself after this call returns (its booking and payment
    /// paths): a meeting made now needs no announcement.
    #[serde(default)]
    pub caller_mails: bool,
    /// The clinic's meeting policy layer, passed through to create and update.
    pub policy: Option<Json<'static>>,
    /// The stored token of the appointment's doctor, when the host has one: a `call` for
    /// that doctor then comes with its `request` built.
    pub auth: Option<StepAuth>,
    /// Who the patient is, for registering them on the meeting when the policy asks
    /// (`register_patient`).
    pub patient: Option<PatientInfo>,
    pub now: i64,
    /// Hex entropy: at least [`RANDOM_BYTES`] bytes.
    pub random: String,
}

/// The patient as WordPress knows them.
#[derive(Debug, Clone, FromJson)]
#[serde(deny_unknown_fields)]
pub struct PatientInfo {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// What a step answers: the row to write first (insert when there was none), then one effect.
#[derive(Debug, PartialEq, Serialize)]
pub struct Step {
    pub write: Option<MappingRow>,
    pub effect: Effect,
    /// What the write means, for the host's hooks once it has landed: `meeting_created` (the
    /// row now holds a new meeting), `meeting_moved` (Zoom took new times for it),
    /// `meeting_ended` (a live meeting's appointment was cancelled or deleted: its links are
    /// gone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<&'static str>,
    /// Delete the row (compare-and-swap on the `version` read, as for a write): it never
    /// reached Zoom (a host recorded it while the core was unavailable) and nothing is owed
    /// now. `write` is null then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forget: bool,
}

/// Zoom's meeting create + update cap: 100 per host user per UTC day (ZOOM-FACTS, rate limits).
pub const ZOOM_DAILY_CAP: u32 = 100;

#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Effect {
    /// Call Zoom as `doctor_id`. When `request` is there (built with the step's `auth`,
    /// whose token is good), send it and step again with `last = {call: <this effect,
    /// without request>, response}` (or `network_error`): the step reads Zoom's answer
    /// itself. Otherwise take the long way: get a usable token (renewing the one the
    /// previous request carried when `renew_token` is set: Zoom refused it), add it as
    /// `auth` to `build.input`, run core operation `build.op`, send, interpret the answer
    /// as `operation`, and step again with `last = {call, outcome}` (or `host_error`).
    Call(Call),
    /// Queue one resume of this appointment at `at` (replacing any queued one) and stop.
    Schedule { at: i64, attempt: u32 },
    /// Send the links (`join_url`: the patient's, their own when registered; the doctor's
    /// start link) and stop.
    Announce { join_url: String },
    /// Stop: nothing is owed. Drop any queued resume of this appointment.
    Finish {
        result: Finish,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// A Zoom call (`Effect::Call`). Fields that do not apply stay at their defaults.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct Call {
    pub operation: &'static str,
    pub doctor_id: u64,
    /// How to build the request the long way; absent when `request` is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    /// Zoom refused the token the last request carried: renew it before building.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub renew_token: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
    /// Set when the call counts against Zoom's per-host daily cap (create and update):
    /// the cap, so the caller can count the host's use of it once Zoom answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<u32>,
    /// The request, ready to send (it carries the bearer token: never log it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<HttpRequest>>,
}

impl Call {
    /// A call of `operation` as `doctor_id`, built the long way by core operation `op` from
    /// `input`.
    fn new(
        operation: &'static str,
        doctor_id: u64,
        op: &'static str,
        input: Json<'static>,
    ) -> Self {
        Call {
            operation,
            doctor_id,
            build: Some(Build {
                op,
                input: BuildInput::Json(input),
            }),
            ..Call::default()
        }
    }
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Build {
    pub op: &'static str,
    pub input: BuildInput,
}

/// What core operation `Build::op` is run on: written as that operation's JSON input.
#[derive(Debug, PartialEq)]
pub enum BuildInput {
    /// `meeting.create`'s input as its parts. A step with a good token makes the input from
    /// them at once; the JSON is written only for the long way (in the interpreter, making a
    /// JSON tree, copying it and reading it back was about a seventh of the step).
    Create(Box<CreateParts>),
    /// Any other operation's input.
    Json(Json<'static>),
}

impl Serialize for BuildInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            BuildInput::Create(c) => c.to_json().serialize(s),
            BuildInput::Json(j) => j.serialize(s),
        }
    }
}

/// A create's input but for its token.
#[derive(Debug, PartialEq)]
pub struct CreateParts {
    pub host: String,
    pub appointment: AppointmentFacts,
    /// Hex entropy for the passcode.
    pub random: String,
    pub policy: Option<Json<'static>>,
}

impl CreateParts {
    /// `meeting.create`'s JSON input, without `auth` (the host adds it).
    pub fn to_json(&self) -> Json<'static> {
        let mut input = Json::object([
            ("host", self.host.as_str().into()),
            ("appointment", facts_json(&self.appointment)),
            ("random", self.random.as_str().into()),
        ]);
        if let Some(p) = &self.policy {
            input.set("policy", p.clone());
        }
        input
    }

    /// The input with `token`'s authority: what reading `to_json()` plus `auth` would give
    /// (a unit test holds them to it), or none when the policy cannot be read (the long way
    /// then reports why).
    #[cfg(test)]
    fn input(&self, token: &TokenSet) -> Option<crate::meeting::CreateInput> {
        Some(crate::meeting::CreateInput {
            auth: crate::meeting::ApiAuth {
                access_token: token.access_token.clone(),
                api_url: token.api_url.clone(),
            },
            host: self.host.clone(),
            appointment: self.appointment.clone(),
            policy: self.policy_layer()?,
            overrides: PolicyLayer::default(),
            random: self.random.clone(),
        })
    }

    /// The policy layer, or none when it cannot be read.
    fn policy_layer(&self) -> Option<PolicyLayer> {
        match &self.policy {
            Some(p) => read(p.clone()).ok(),
            None => Some(PolicyLayer::default()),
        }
    }

    /// The create with `token`'s authority, built from the parts where they are: the same
    /// request as `meeting.create` on [`CreateParts::input`] (a unit test holds them to it).
    fn create(&self, token: &TokenSet) -> Option<HttpRequest> {
        let policy = self.policy_layer()?;
        crate::meeting::create_from(&crate::meeting::CreateFrom {
            access_token: &token.access_token,
            api_url: &token.api_url,
            host: &self.host,
            appointment: &self.appointment,
            policy: &policy,
            overrides: &PolicyLayer::default(),
            random: &self.random,
        })
        .ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// The work is done (a meeting is live, moved or gone, as asked).
    Done,
    /// The work was given up; the row's `last_error` says why.
    Failed,
    /// There was nothing to do.
    Nothing,
}

/// What folding `last` into the row left to do.
enum Folded {
    /// Plan from the updated row.
    Plan,
    /// Answer this effect (after writing the row).
    Now(Box<Effect>),
}

struct Ctx<'a> {
    input: &'a StepInput,
    random: HostRandom,
    /// Zoom refused the token the last request carried: the next call renews it first.
    renew: bool,
    /// The row never reached Zoom and nothing is owed: the host deletes it.
    forget: bool,
}

pub fn step(input: &StepInput) -> Result<Step> {
    let random = HostRandom::from_hex(&input.random, "random", RANDOM_BYTES)?;
    if let Some(h) = &input.host {
        validate_host(h)?;
    }
    let mut cx = Ctx {
        input,
        random,
        renew: false,
        forget: false,
    };
    let mut row = input.row.clone();
    let read = input.last.as_ref().and_then(|l| interpret(&mut cx, l));
    let outcome = input
        .last
        .as_ref()
        .and_then(|l| l.outcome.as_ref())
        .or(read.as_ref());
    let mut effect = match input
        .last
        .as_ref()
        .map(|l| fold(&mut cx, &mut row, l, outcome))
    {
        Some(Folded::Now(effect)) => *effect,
        _ => plan(&mut cx, &mut row),
    };
    if let (
        true,
        Some(last),
        Effect::Call(Call {
            doctor_id,
            renew_token,
            ..
        }),
    ) = (cx.renew, &input.last, &mut effect)
    {
        *renew_token = *doctor_id == last.call.doctor_id;
    }
    let write = match (row, &input.row) {
        // A new request always leaves a mark (a version bump), so a loop that read the row
        // before it (and the appointment before, say, its deletion) loses its next write,
        // reads both again, and sees the change. Found by the soak: a reschedule that had
        // read the appointment before a concurrent deletion made a meeting after it.
        (Some(mut r), Some(old)) if &r == old && input.intent.is_some() => {
            r.updated_at = input.now.max(old.updated_at + 1);
            Some(r)
        }
        (Some(r), Some(old)) if &r == old => None,
        (Some(mut r), _) => {
            r.updated_at = input.now;
            Some(r)
        }
        (None, _) => None,
    };
    let mut events = Vec::new();
    if let Some(w) = &write {
        let before = input.row.as_ref();
        if w.zoom_id.is_some() && w.zoom_id.as_ref() != before.and_then(|b| b.zoom_id.as_ref()) {
            events.push("meeting_created");
        }
        let moved = input.last.as_ref().is_some_and(|l| {
            l.call.operation == "update_meeting" && outcome.is_some_and(|o| o.action == "done")
        });
        if moved
            && w.zoom_id.is_some()
            && w.zoom_id.as_ref() == before.and_then(|b| b.zoom_id.as_ref())
        {
            events.push("meeting_moved");
        }
        let was_live = before.is_some_and(|b| b.status == Status::Active);
        if was_live && matches!(w.status, Status::Cancelled | Status::Deleted) {
            events.push("meeting_ended");
        }
    }
    Ok(Step {
        write,
        effect,
        events,
        forget: cx.forget,
    })
}

// ---- folding the last effect's result into the row ------------------------------------

/// Zoom's answer (or the network error) to the request the step built, read as
/// `api.interpret` reads it. An answer that cannot be read fails the call with the reading's
/// error, as it failed when the host interpreted it; except a create Zoom said yes to, which
/// is looked for instead.
fn interpret(cx: &mut Ctx, last: &Last) -> Option<OutcomeIn> {
    if last.outcome.is_some() || last.host_error.is_some() {
        return None;
    }
    if last.response.is_none() && last.network_error.is_none() {
        return None;
    }
    let operation =
        crate::json::read::<Operation>(Json::from(last.call.operation.as_str())).ok()?;
    let read = crate::api::interpret_as(
        &InterpretInput {
            operation,
            // Lent below instead: the step's response is not copied.
            response: None,
            network_error: last.network_error.clone(),
            now: cx.input.now,
            attempt: 1,
            refreshed: false,
            max_attempts: None,
            random: encode_hex(cx.random.take(8)),
        },
        last.response.as_ref(),
        crate::api::Reading::ForRow,
    );
    let answered = last
        .response
        .as_ref()
        .is_some_and(|r| (200..300).contains(&r.status));
    Some(match read {
        Ok(o) => OutcomeIn::from_outcome(o),
        // Zoom said yes to a create in words the core cannot read: the meeting may well
        // exist, so it is looked for by its reference rather than left orphaned.
        Err(e) if answered && operation == Operation::CreateMeeting => {
            OutcomeIn::from_outcome(Outcome::RecoverThenRetry {
                at: cx.input.now,
                reason: "response_invalid",
            })
            .with_message(e.message)
        }
        Err(e) => OutcomeIn {
            action: "fail".into(),
            result: None,
            at: None,
            reason: None,
            code: Some(e.code.to_string()),
            message: Some(e.message),
        },
    })
}

fn fold(
    cx: &mut Ctx,
    row: &mut Option<MappingRow>,
    last: &Last,
    out: Option<&OutcomeIn>,
) -> Folded {
    let call = &last.call;
    let op = call.operation.as_str();
    let ours = |r: &MappingRow| call.meeting_id.is_some() && r.zoom_id == call.meeting_id;
    // Our own claim ends with the answer, whatever it is.
    if let Some(r) = row.as_mut() {
        if matches!(op, "create_meeting" | "list_meetings") {
            r.claimed_until = None;
        }
    }
    if last.outcome.is_none() && out.is_some_and(|o| o.action == "refresh_then_retry") {
        // Zoom refused the token the step's request carried (the host never renews on its
        // own for that path): the same work again, the token renewed first. A create was
        // refused outright, so nothing of it reached Zoom.
        cx.renew = true;
        if let Some(r) = row.as_mut().filter(|_| op == "create_meeting") {
            r.unconfirmed = false;
        }
        return Folded::Plan;
    }
    if op == "add_registrant" {
        return registered(cx, row, call, last, out);
    }
    if let Some(e) = &last.host_error {
        return match e.retry_at {
            Some(at) => transient(cx, row, call, at, "host_busy", false),
            None => failure(row, op, &e.code, &e.message),
        };
    }
    let Some(out) = out else {
        return failure(
            row,
            op,
            "effect_missing",
            "the last call has neither an outcome nor a host error",
        );
    };
    match (out.action.as_str(), op) {
        ("done", "create_meeting") => match out.result.as_ref().and_then(Answered::meeting) {
            Some(m) => adopt(cx, row, &m, call.doctor_id),
            _ => failure(
                row,
                op,
                "response_invalid",
                "Zoom's meeting could not be read",
            ),
        },
        ("done", "list_meetings") => {
            let (meetings, next) = out.result.as_ref().map(Answered::page).unwrap_or_default();
            let reference = call.correlation_ref.clone().unwrap_or_default();
            let found = meetings
                .into_iter()
                .find(|m| carries_reference(&m.topic, &reference));
            if let Some(m) = found {
                return adopt(cx, row, &m, call.doctor_id);
            }
            let next = next.as_str();
            if !next.is_empty() {
                return Folded::Now(Box::new(match row.as_mut() {
                    Some(r) => {
                        r.claimed_until = Some(cx.input.now + CLAIM);
                        list_call(r, Some(next))
                    }
                    // The row is gone (a rolled-back booking): still find what it left.
                    None => {
                        let host = call.host.as_deref().unwrap_or("me");
                        list_for(host, call.doctor_id, &reference, Some(next))
                    }
                }));
            }
            // Every page read: nothing carries the reference, so nothing reached Zoom.
            if let Some(r) = row.as_mut().filter(|r| r.correlation_ref == reference) {
                r.unconfirmed = false;
                r.attempt = 0;
            }
            Folded::Plan
        }
        ("done", "update_meeting") => {
            if let (Some(r), Some(sent)) = (row.as_mut(), &call.sent) {
                if ours(r) {
                    r.start_time = zoom_utc(sent.start_unix, "start_unix").ok();
                    r.duration = Some(sent.duration_min);
                    r.timezone = Some(sent.timezone.clone());
                    r.attempt = 0;
                    r.last_error = None;
                }
            }
            Folded::Plan
        }
        ("done" | "gone", "delete_meeting") => {
            if let Some(r) = row.as_mut().filter(|r| ours(r)) {
                forget_meeting(r);
                r.attempt = 0;
            }
            Folded::Plan
        }
        ("done", "get_meeting") => {
            // What Zoom has now replaces what the row remembered: a drifted time is then
            // moved back by "make sure".
            if let (Some(r), Some(m)) = (
                row.as_mut(),
                out.result.as_ref().and_then(Answered::meeting),
            ) {
                if ours(r) {
                    r.start_time = m.start_time.clone().or(r.start_time.take());
                    r.duration = m.duration.or(r.duration);
                    r.timezone = m.timezone.clone().or(r.timezone.take());
                    if r.intent == Some(Intent::Verify) {
                        r.intent = Some(Intent::Ensure);
                    }
                }
            }
            Folded::Plan
        }
        ("gone", "get_meeting") => {
            // Zoom lost it (deleted there, no webhook): the row forgets it, and a booked
            // appointment gets a new one.
            if let Some(r) = row.as_mut().filter(|r| ours(r)) {
                forget_meeting(r);
                if r.intent == Some(Intent::Verify) {
                    r.intent = Some(Intent::Ensure);
                }
            }
            Folded::Plan
        }
        ("gone", "update_meeting") => {
            // Deleted at Zoom behind our back: the plan makes a new one.
            if let Some(r) = row.as_mut().filter(|r| ours(r)) {
                forget_meeting(r);
            }
            Folded::Plan
        }
        ("retry_at", _) | ("recover_then_retry", _) => {
            let reason = out.reason.as_deref().unwrap_or("retry");
            let at = out.at.unwrap_or(cx.input.now);
            let maybe_reached = out.action == "recover_then_retry";
            transient(cx, row, call, at, reason, maybe_reached)
        }
        // The token layer handles these; reaching here means it could not: try later.
        ("refresh_then_retry" | "check_stored", _) => {
            let now = cx.input.now;
            transient(cx, row, call, now, "token_retry", false)
        }
        ("reconnect", _) => failure(
            row,
            op,
            "reconnect_required",
            out.message
                .as_deref()
                .unwrap_or("the doctor must connect Zoom again"),
        ),
        ("fail", _) => failure(
            row,
            op,
            out.code.as_deref().unwrap_or("zoom_error"),
            out.message.as_deref().unwrap_or("Zoom refused the request"),
        ),
        ("gone", _) => failure(row, op, "not_found", "Zoom has no such meeting or user"),
        _ => failure(
            row,
            op,
            "outcome_unknown",
            "the last outcome is not one the core knows",
        ),
    }
}

fn forget_registration(r: &mut MappingRow) {
    r.registrant_id = None;
    r.patient_join_url = None;
    r.registered_email = None;
}

fn forget_meeting(r: &mut MappingRow) {
    forget_registration(r);
    r.zoom_id = None;
    r.join_url = None;
    r.start_url = None;
    r.start_url_fetched_at = None;
    r.meeting_state = None;
    r.last_error = None;
    if r.status == Status::Active {
        r.status = Status::Deleted;
    }
}

/// A meeting Zoom made (or recovery found) for this appointment.
fn adopt(cx: &mut Ctx, row: &mut Option<MappingRow>, m: &MeetingRecord, doctor_id: u64) -> Folded {
    let id = m.zoom_id.as_str().to_string();
    let Some(r) = row.as_mut() else {
        return Folded::Now(Box::new(delete_call(&id, doctor_id)));
    };
    match r.zoom_id.as_deref() {
        Some(z) if z == id => return Folded::Plan,
        // The row already has another meeting: this one is surplus.
        Some(_) => return Folded::Now(Box::new(delete_call(&id, doctor_id))),
        None => {}
    }
    r.zoom_id = Some(id);
    forget_registration(r);
    r.join_url = Some(m.join_url.clone());
    if m.start_url.is_some() {
        r.start_url = m.start_url.clone();
        r.start_url_fetched_at = Some(cx.input.now);
    }
    // What the row keeps of the record: only these are copied.
    r.password = m.password.clone().or(r.password.take());
    r.start_time = m.start_time.clone().or(r.start_time.take());
    r.duration = m.duration.or(r.duration);
    r.timezone = m.timezone.clone().or(r.timezone.take());
    r.doctor_id = Some(doctor_id);
    r.unconfirmed = false;
    r.claimed_until = None;
    r.attempt = 0;
    r.next_attempt_at = None;
    r.last_error = None;
    // A cancelled or deleted row keeps its status: the plan deletes what it just adopted.
    if matches!(r.status, Status::Pending | Status::Failed | Status::Deleted)
        && !matches!(r.intent, Some(Intent::Cancel | Intent::Delete))
    {
        r.status = Status::Active;
        r.meeting_state = Some("waiting".into());
        r.needs_announce = !cx.input.caller_mails;
        if r.intent == Some(Intent::Regenerate) {
            r.intent = Some(Intent::Ensure);
        }
    }
    Folded::Plan
}

/// A failure that passes: back off (or give up past the limits).
fn transient(
    cx: &mut Ctx,
    row: &mut Option<MappingRow>,
    call: &CallEcho,
    hint: i64,
    reason: &str,
    maybe_reached: bool,
) -> Folded {
    let now = cx.input.now;
    let op = call.operation.as_str();
    let Some(r) = row.as_mut() else {
        // The row is gone (its booking rolled back) but the create may have reached Zoom:
        // look for the meeting by its reference, so it can be deleted.
        return Folded::Now(Box::new(match (op, maybe_reached, &call.correlation_ref) {
            ("create_meeting", true, Some(reference)) => {
                let host = call.host.as_deref().unwrap_or("me");
                list_for(host, call.doctor_id, reference, None)
            }
            _ => finish(Finish::Failed, reason),
        }));
    };
    if op == "create_meeting" {
        r.unconfirmed = maybe_reached;
    }
    let attempt = r.attempt.saturating_add(1);
    let since = r.work_since.unwrap_or(now);
    if attempt > MAX_ATTEMPTS || now.saturating_sub(since) > MAX_AGE {
        let message = format!("gave up after {} attempts ({reason})", r.attempt.max(1));
        return failure(row, op, "retries_exhausted", &message);
    }
    let at = if reason == "daily_cap" {
        // Zoom's cap resets at 00:00 UTC; nothing earlier can succeed.
        hint.clamp(now + 1, now + 86_400)
    } else {
        let exp = (attempt - 1).min(16);
        let cap = RETRY_CAP.min(RETRY_BASE.saturating_mul(1 << exp));
        // Equal jitter: at least half the backoff, so retries spread but still back off.
        let jitter = (cx.random.next_u64() % (cap as u64 / 2 + 1)) as i64;
        let backoff = now + cap - cap / 2 + jitter;
        hint.max(backoff).min(now + crate::api::RETRY_AFTER_CEILING)
    };
    r.attempt = attempt;
    r.next_attempt_at = Some(at);
    r.last_error = Some(bounded(&format!("{reason}: will retry")));
    Folded::Now(Box::new(Effect::Schedule { at, attempt }))
}

/// A failure that will not pass by waiting: the work ends, and the row says why.
fn failure(row: &mut Option<MappingRow>, op: &str, code: &str, message: &str) -> Folded {
    if let Some(r) = row.as_mut() {
        if matches!(op, "create_meeting" | "list_meetings") && r.status == Status::Pending {
            // The create was refused, or given up (recovery looks for it first next time).
            r.status = Status::Failed;
        }
        if op == "create_meeting" && code != "retries_exhausted" {
            r.unconfirmed = false;
        }
        r.claimed_until = None;
        r.intent = None;
        r.work_since = None;
        r.attempt = 0;
        r.next_attempt_at = None;
        r.last_error = Some(bounded(&format!("{code}: {message}")));
    }
    Folded::Now(Box::new(finish(Finish::Failed, code)))
}

fn bounded(s: &str) -> String {
    s.chars().take(500).collect()
}

fn finish(result: Finish, reason: &str) -> Effect {
    Effect::Finish {
        result,
        reason: (!reason.is_empty()).then(|| reason.to_string()),
    }
}

// ---- planning the next effect ----------------------------------------------------------

/// The work to do given what was asked, what the row owes, and the appointment now.
fn effective(input: &StepInput, row: &Option<MappingRow>) -> Option<Intent> {
    let a = &input.appointment;
    let asked = match row.as_ref().and_then(|r| r.intent) {
        // Recorded by a host that could not ask the core: what the status asks now.
        Some(Intent::StatusChanged) => status_asks(a.status),
        other => other,
    };
    let live = row
        .as_ref()
        .is_some_and(|r| r.status == Status::Active && r.zoom_id.is_some());
    match asked {
        // Deleted appointments never come back (KiviCare asks before it deletes the row).
        Some(Intent::Delete) => asked,
        // A cancellation that a later booking overtook (cancelled, then confirmed again).
        Some(Intent::Cancel) if a.exists && matches!(a.status, Some(1 | 4)) => Some(Intent::Ensure),
        Some(Intent::Cancel) => asked,
        // A meeting is only wanted while the appointment exists and is not cancelled.
        Some(_) | None if asked.is_some() || live => {
            if a.gone() {
                Some(Intent::Delete)
            } else if a.status == Some(0) {
                Some(Intent::Cancel)
            } else if matches!(a.status, Some(2 | 3)) && !live {
                // Not confirmed yet (pending payment), or the visit is over: no new meeting.
                None
            } else {
                asked
            }
        }
        // Nothing asked, no live meeting, yet KiviCare has the appointment booked: its meeting
        // was deleted behind our back (in Zoom, or a replacement another request superseded).
        // Make one. A failed row waits for someone to ask again.
        None if a.known
            && a.exists
            && matches!(a.status, Some(1 | 4))
            && row.as_ref().is_some_and(|r| {
                r.zoom_id.is_none() && matches!(r.status, Status::Deleted | Status::Cancelled)
            }) =>
        {
            Some(Intent::Ensure)
        }
        _ => None,
    }
}

/// Records what was asked on the row: the newest request wins, except that plain "make sure"
/// never downgrades a pending regenerate.
fn absorb(input: &StepInput, row: &mut Option<MappingRow>, cx: &mut Ctx) {
    let Some(asked) = input.intent else { return };
    let a = &input.appointment;
    let asked = match asked {
        Intent::Reschedule => Intent::Ensure,
        // A cancellation the appointment has already left behind (booked again) asks for a
        // meeting: it must not replace a pending regenerate.
        Intent::Cancel if a.exists && matches!(a.status, Some(1 | 4)) => Intent::Ensure,
        Intent::StatusChanged => match status_asks(a.status) {
            Some(asked) => asked,
            None => return,
        },
        other => other,
    };
    let r = match row.as_mut() {
        Some(r) => r,
        None if matches!(asked, Intent::Cancel | Intent::Delete | Intent::Verify) => return,
        None => {
            *row = Some(new_row(cx));
            row.as_mut().expect("just set")
        }
    };
    let merged = match (r.intent, asked) {
        (Some(Intent::Regenerate), Intent::Ensure) => Intent::Regenerate,
        // A check never replaces work already owed.
        (Some(owed), Intent::Verify) => owed,
        _ => asked,
    };
    if r.intent != Some(merged) {
        r.intent = Some(merged);
        r.work_since = Some(input.now);
        r.attempt = 0;
    }
}

/// A row a host recorded without the core: still pending, no reference (every create the
/// core sends carries one), no meeting, no create unaccounted for.
fn never_reached_zoom(r: &MappingRow) -> bool {
    r.status == Status::Pending
        && r.correlation_ref.is_empty()
        && r.zoom_id.is_none()
        && !r.unconfirmed
}

/// What a change to KiviCare's status asks for (CONTRACT §8.1: KiviCare makes no meeting
/// when an appointment is confirmed later): booked or checked in needs a meeting, cancelled
/// ends it; pending and checked out ask for nothing new (work already owed goes on).
fn status_asks(status: Option<u16>) -> Option<Intent> {
    match status? {
        1 | 4 => Some(Intent::Ensure),
        0 => Some(Intent::Cancel),
        _ => None,
    }
}

/// A row for an appointment that has none yet (inserted by the host).
fn new_row(cx: &mut Ctx) -> MappingRow {
    let mut r = MappingRow::new(cx.input.appointment_id, cx.input.now);
    r.doctor_id = cx.input.appointment.doctor_id;
    r.patient_id = cx.input.appointment.patient_id;
    r.host = cx.input.host.clone();
    r
}

fn plan(cx: &mut Ctx, row: &mut Option<MappingRow>) -> Effect {
    let input = cx.input;
    absorb(input, row, cx);
    let eff = effective(cx.input, row);
    if eff.is_none() && cx.input.row.is_none() {
        // Nothing is owed and there was no row: write none.
        *row = None;
    }
    if matches!(eff, None | Some(Intent::Cancel | Intent::Delete))
        && cx.input.row.as_ref().is_some_and(never_reached_zoom)
    {
        // Nothing to make, and nothing at Zoom to end: the row has no reason to exist.
        *row = None;
        cx.forget = true;
    }
    let Some(r) = row.as_mut() else {
        return finish(Finish::Nothing, "");
    };
    if eff != r.intent {
        r.intent = eff;
        r.work_since = Some(cx.input.now);
        r.attempt = 0;
    }
    match eff {
        None => settle(r, Finish::Nothing),
        Some(Intent::Cancel) => end(cx, r, Status::Cancelled),
        Some(Intent::Delete) => end(cx, r, Status::Deleted),
        Some(Intent::Verify) => verify(cx, r),
        Some(i) => ensure(cx, r, i == Intent::Regenerate),
    }
}

/// Reads the row's meeting at Zoom; its answer (folded) then becomes "make sure".
fn verify(cx: &mut Ctx, r: &mut MappingRow) -> Effect {
    match (r.status, r.zoom_id.clone()) {
        (Status::Active, Some(z)) => Effect::Call(Call {
            meeting_id: Some(z.clone()),
            ..Call::new(
                "get_meeting",
                r.doctor_id.unwrap_or(0),
                "meeting.get",
                Json::object([("meeting_id", z.into())]),
            )
        }),
        _ => {
            r.intent = Some(Intent::Ensure);
            ensure(cx, r, false)
        }
    }
}

/// Nothing more is owed: announce a new meeting once, else stop.
fn settle(r: &mut MappingRow, result: Finish) -> Effect {
    r.intent = None;
    r.work_since = None;
    r.attempt = 0;
    r.next_attempt_at = None;
    match (r.status, &r.join_url) {
        (Status::Active, Some(url)) if r.needs_announce => {
            r.needs_announce = false;
            // The patient's own link when they were registered.
            Effect::Announce {
                join_url: r.patient_join_url.clone().unwrap_or_else(|| url.clone()),
            }
        }
        _ => finish(result, ""),
    }
}

/// A create that may have reached Zoom: look for it by its reference, unless another worker
/// holds the row, or the retry time has not come (Zoom may still be finishing that create).
fn recover(cx: &Ctx, r: &mut MappingRow) -> Effect {
    if let Some(wait) = claimed(cx, r) {
        return wait;
    }
    if let Some(at) = r.next_attempt_at.filter(|&t| t > cx.input.now) {
        return Effect::Schedule {
            at,
            attempt: r.attempt,
        };
    }
    r.claimed_until = Some(cx.input.now + CLAIM);
    r.next_attempt_at = None;
    list_call(r, None)
}

/// Someone else is calling Zoom for this row: look again when their claim runs out.
fn claimed(cx: &Ctx, r: &MappingRow) -> Option<Effect> {
    let until = r.claimed_until.filter(|&t| t > cx.input.now)?;
    Some(Effect::Schedule {
        at: until,
        attempt: r.attempt,
    })
}

fn end(cx: &mut Ctx, r: &mut MappingRow, to: Status) -> Effect {
    if r.status != to {
        // Links disappear at once, even while Zoom still has to confirm the delete.
        r.status = to;
        r.start_url = None;
        r.start_url_fetched_at = None;
        r.needs_announce = false;
    }
    if let Some(z) = r.zoom_id.clone() {
        return delete_call(&z, r.doctor_id.unwrap_or(0));
    }
    if r.unconfirmed {
        return recover(cx, r);
    }
    settle(r, Finish::Done)
}

fn ensure(cx: &mut Ctx, r: &mut MappingRow, regenerate: bool) -> Effect {
    let a = &cx.input.appointment;
    if let Some(z) = r.zoom_id.clone() {
        let old_doctor = r.doctor_id.unwrap_or(0);
        let moved = a.doctor_id.is_some_and(|d| Some(d) != r.doctor_id);
        // Replace: asked to, the appointment moved to another doctor (another host), or a
        // meeting left over from a cancellation that Zoom has not confirmed yet.
        if regenerate || moved || r.status != Status::Active {
            return delete_call(&z, old_doctor);
        }
        if let Some(p) = a.patient_id.filter(|&p| Some(p) != r.patient_id) {
            r.patient_id = Some(p);
            r.needs_announce = true;
        }
        if let Some(sent) = drift(a, r) {
            return update_call(cx, r, &z, sent);
        }
        if let Some(call) = register_call(cx, r, &z) {
            return call;
        }
        return settle(r, Finish::Done);
    }
    if r.unconfirmed {
        return recover(cx, r);
    }
    let (Some(host), Some(doctor)) = (cx.input.host.clone(), a.doctor_id.or(r.doctor_id)) else {
        r.status = Status::Failed;
        r.intent = None;
        r.work_since = None;
        r.last_error = Some("zoom_not_connected: the doctor has no working Zoom connection".into());
        return finish(Finish::Failed, "zoom_not_connected");
    };
    // Without KiviCare's table (`known` false) a resume has only what the row remembers.
    let start = a
        .start_unix
        .or_else(|| r.start_time.as_deref().and_then(parse_rfc3339));
    let (Some(start), Some(duration), Some(tz)) = (
        start,
        a.duration_min.or(r.duration),
        a.timezone.clone().or_else(|| r.timezone.clone()),
    ) else {
        r.status = Status::Failed;
        r.intent = None;
        r.work_since = None;
        r.last_error = Some("appointment_unknown: the appointment's time is unknown".into());
        return finish(Finish::Failed, "appointment_unknown");
    };
    // A fresh reservation: a new reference, claimed, marked as possibly at Zoom from now on.
    r.status = Status::Pending;
    // Pushed, not `format!`: the formatting machinery would be a booking's only use of it.
    let mut reference = String::with_capacity(23);
    reference.push_str("kc-");
    reference.push_str(&encode_hex(cx.random.take(10)));
    r.correlation_ref = reference;
    r.doctor_id = Some(doctor);
    r.patient_id = a.patient_id.or(r.patient_id);
    r.host = Some(host.clone());
    r.unconfirmed = true;
    r.claimed_until = Some(cx.input.now + CLAIM);
    r.last_error = None;
    r.start_time = zoom_utc(start, "appointment.start_unix").ok();
    r.duration = Some(duration);
    r.timezone = Some(tz.clone());
    let parts = CreateParts {
        host: host.clone(),
        appointment: facts(r, start, duration, &tz),
        random: encode_hex(cx.random.take(16)),
        policy: cx.input.policy.clone(),
    };
    Effect::Call(Call {
        operation: "create_meeting",
        doctor_id: doctor,
        build: Some(Build {
            op: "meeting.create",
            input: BuildInput::Create(Box::new(parts)),
        }),
        correlation_ref: Some(r.correlation_ref.clone()),
        host: Some(host),
        daily_cap: Some(ZOOM_DAILY_CAP),
        ..Call::default()
    })
}

fn facts(r: &MappingRow, start: i64, duration: i64, tz: &str) -> AppointmentFacts {
    AppointmentFacts {
        id: r.appointment_id,
        doctor_id: r.doctor_id,
        patient_id: r.patient_id,
        start_unix: start,
        duration_min: duration,
        timezone: tz.to_string(),
        correlation_ref: r.correlation_ref.clone(),
        doctor_name: None,
        patient_name: None,
    }
}

/// An appointment's facts as a core operation's JSON input takes them (names are never sent).
fn facts_json(a: &AppointmentFacts) -> Json<'static> {
    let mut f = Json::object([
        ("id", a.id.into()),
        ("start_unix", a.start_unix.into()),
        ("duration_min", a.duration_min.into()),
        ("timezone", a.timezone.as_str().into()),
        ("correlation_ref", a.correlation_ref.as_str().into()),
    ]);
    if let Some(d) = a.doctor_id {
        f.set("doctor_id", d.into());
    }
    if let Some(p) = a.patient_id {
        f.set("patient_id", p.into());
    }
    f
}

/// The times to send when the meeting no longer matches the appointment.
fn drift(a: &AppointmentNow, r: &MappingRow) -> Option<Sent> {
    let (start, duration, tz) = (a.start_unix?, a.duration_min?, a.timezone.clone()?);
    let stored = r.start_time.as_deref().and_then(parse_rfc3339);
    let same = stored == Some(start)
        && r.duration == Some(duration)
        && r.timezone.as_deref() == Some(tz.as_str());
    (!same).then_some(Sent {
        start_unix: start,
        duration_min: duration,
        timezone: tz,
    })
}

fn update_call(cx: &Ctx, r: &MappingRow, zoom_id: &str, sent: Sent) -> Effect {
    let mut input = Json::object([
        ("meeting_id", zoom_id.into()),
        (
            "appointment",
            facts_json(&facts(
                r,
                sent.start_unix,
                sent.duration_min,
                &sent.timezone,
            )),
        ),
    ]);
    if let Some(p) = &cx.input.policy {
        input.set("policy", p.clone());
    }
    Effect::Call(Call {
        meeting_id: Some(zoom_id.to_string()),
        sent: Some(sent),
        daily_cap: Some(ZOOM_DAILY_CAP),
        ..Call::new(
            "update_meeting",
            r.doctor_id.unwrap_or(0),
            "meeting.update",
            input,
        )
    })
}

/// The patient is registered on the meeting when the clinic's policy asks for it and
/// WordPress knows their email: once per meeting and email (a failed registration is not
/// tried again for the same email; the patient then uses the meeting's own link).
fn register_call(cx: &Ctx, r: &MappingRow, zoom_id: &str) -> Option<Effect> {
    let wanted = cx
        .input
        .policy
        .as_ref()
        .and_then(|p| p.get("register_patient"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let patient = cx
        .input
        .patient
        .as_ref()
        .filter(|p| wanted && !p.email.is_empty())?;
    if r.registered_email.as_deref() == Some(patient.email.as_str()) {
        return None;
    }
    let input = Json::object([
        ("meeting_id", zoom_id.into()),
        ("email", patient.email.as_str().into()),
        (
            "first_name",
            patient.first_name.clone().unwrap_or_default().into(),
        ),
        ("last_name", patient.last_name.clone().into()),
    ]);
    Some(Effect::Call(Call {
        meeting_id: Some(zoom_id.to_string()),
        ..Call::new(
            "add_registrant",
            r.doctor_id.unwrap_or(0),
            "meeting.add_registrant",
            input,
        )
    }))
}

/// What a registration came to. Whatever it was, the links go out: a registration Zoom
/// refused (or could not take now) leaves the patient the meeting's own link, and is not
/// tried again for this email.
fn registered(
    cx: &Ctx,
    row: &mut Option<MappingRow>,
    call: &CallEcho,
    last: &Last,
    out: Option<&OutcomeIn>,
) -> Folded {
    let email = cx.input.patient.as_ref().map(|p| p.email.clone());
    let Some(r) = row
        .as_mut()
        .filter(|r| call.meeting_id.is_some() && r.zoom_id == call.meeting_id)
    else {
        return Folded::Plan;
    };
    r.registered_email = email;
    let registration = out
        .filter(|o| o.action == "done")
        .and_then(|o| o.result.as_ref())
        .and_then(Answered::registration);
    match registration {
        Some((id, url)) => {
            r.registrant_id = Some(id);
            r.patient_join_url = Some(url);
            r.last_error = None;
        }
        _ => {
            r.registrant_id = None;
            r.patient_join_url = None;
            let why = last
                .host_error
                .as_ref()
                .map(|e| e.code.clone())
                .or_else(|| out.and_then(|o| o.code.clone().or(o.reason.clone())))
                .or_else(|| out.map(|o| o.action.clone()))
                .unwrap_or_else(|| "unknown".into());
            r.last_error = Some(bounded(&format!(
                "registration_failed: {why}; the patient has the meeting's own link"
            )));
        }
    }
    Folded::Plan
}

fn delete_call(zoom_id: &str, doctor_id: u64) -> Effect {
    Effect::Call(Call {
        meeting_id: Some(zoom_id.to_string()),
        ..Call::new(
            "delete_meeting",
            doctor_id,
            "meeting.delete",
            Json::object([("meeting_id", zoom_id.into())]),
        )
    })
}

fn list_call(r: &MappingRow, page: Option<&str>) -> Effect {
    let host = r.host.clone().unwrap_or_else(|| "me".into());
    list_for(&host, r.doctor_id.unwrap_or(0), &r.correlation_ref, page)
}

/// One page of the host's meetings, to find the one carrying `reference`.
fn list_for(host: &str, doctor_id: u64, reference: &str, page: Option<&str>) -> Effect {
    let mut input = Json::object([("host", host.into())]);
    if let Some(p) = page {
        input.set("next_page_token", p.into());
    }
    Effect::Call(Call {
        correlation_ref: Some(reference.to_string()),
        host: Some(host.to_string()),
        ..Call::new("list_meetings", doctor_id, "meeting.list", input)
    })
}

/// Rejects inputs no host should send, naming the field.
pub fn check(input: &StepInput) -> Result<()> {
    if input.intent.is_some() && input.last.is_some() {
        return Err(CoreError::field(
            "input_invalid",
            "intent",
            "give intent on a loop's first step only, last on the following ones",
        ));
    }
    Ok(())
}

/// The `lifecycle.step` operation: the step, and its call's request when the host's token
/// for that doctor is good.
pub fn run(input: &StepInput) -> Result<Step> {
    check(input)?;
    let mut out = step(input)?;
    if let (
        Some(auth),
        Effect::Call(Call {
            doctor_id,
            build,
            request,
            renew_token: false,
            ..
        }),
    ) = (&input.auth, &mut out.effect)
    {
        *request = build
            .as_ref()
            .and_then(|b| ready_request(auth, *doctor_id, b, input.now));
        if request.is_some() {
            // The host sends it and hands back Zoom's answer; it needs no way to build it.
            *build = None;
        }
    }
    Ok(out)
}

/// The call's request, if the token is the doctor's and good now; otherwise none, and the
/// host takes the long way (token decision, renewal, build), which also reports any error.
fn ready_request(
    auth: &StepAuth,
    doctor_id: u64,
    build: &Build,
    now: i64,
) -> Option<Box<HttpRequest>> {
    if auth.doctor_id != doctor_id {
        return None;
    }
    let token = auth.token.as_ref()?;
    if token::decide_held(auth.mode, Some(token), now, None) != Decision::Use {
        return None;
    }
    // A create is kept as its parts (`BuildInput::Create`); every other call as JSON.
    let mut input = match &build.input {
        BuildInput::Create(c) => return c.create(token).map(Box::new),
        BuildInput::Json(j) => j.clone(),
    };
    input.set(
        "auth",
        Json::object([
            ("access_token", token.access_token.expose().into()),
            ("api_url", token.api_url.clone().into()),
        ]),
    );
    let built = match build.op {
        "meeting.update" => crate::meeting::update(&read(input).ok()?),
        "meeting.delete" => crate::meeting::delete(&read(input).ok()?),
        "meeting.get" => crate::meeting::get(&read(input).ok()?),
        "meeting.list" => crate::meeting::list(&read(input).ok()?),
        "meeting.add_registrant" => crate::meeting::add_registrant(&read(input).ok()?),
        _ => return None,
    };
    built.ok().map(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Answer;

    /// A create made from its parts is the create the long way makes: the host adds `auth`
    /// to the written input and runs `meeting.create` on it. With and without a policy, with
    /// and without a doctor and patient; a policy that cannot be read builds nothing here
    /// (the long way reports it).
    #[test]
    fn a_create_from_its_parts_is_the_create_the_long_way_makes() {
        let token: TokenSet = read(Json::from(serde_json::json!({
            "access_token": "tok", "expires_at": 9, "api_url": "https://api.zoom.us"
        })))
        .unwrap();
        let policies = [
            None,
            Some(
                serde_json::json!({"waiting_room": false, "topic_template": "Visit {ref}",
                "alternative_hosts": ["a@clinic.example", "b@clinic.example"]}),
            ),
        ];
        for policy in policies {
            for (doctor_id, patient_id) in [(Some(7), Some(9)), (None, None)] {
                let parts = CreateParts {
                    host: "dr@clinic.example".into(),
                    appointment: AppointmentFacts {
                        id: 42,
                        doctor_id,
                        patient_id,
                        start_unix: 1_767_430_800,
                        duration_min: 45,
                        timezone: "Asia/Kolkata".into(),
                        correlation_ref: "kc-00112233445566778899".into(),
                        doctor_name: None,
                        patient_name: None,
                    },
                    random: "ab".repeat(16),
                    policy: policy.clone().map(Json::from),
                };
                let mut long = parts.to_json();
                long.set(
                    "auth",
                    Json::from(serde_json::json!({"access_token": "tok", "api_url": "https://api.zoom.us"})),
                );
                let long = crate::meeting::create(&read(long).unwrap()).unwrap();
                let short = crate::meeting::create(&parts.input(&token).unwrap()).unwrap();
                assert_eq!(short, long);
                assert_eq!(parts.create(&token).unwrap(), long);
            }
        }
        let unreadable = CreateParts {
            host: "me".into(),
            appointment: AppointmentFacts {
                id: 1,
                doctor_id: None,
                patient_id: None,
                start_unix: 1,
                duration_min: 30,
                timezone: "UTC".into(),
                correlation_ref: "kc-0011223344".into(),
                doctor_name: None,
                patient_name: None,
            },
            random: "ab".repeat(16),
            policy: Some(Json::from(serde_json::json!({"no_such_rule": true}))),
        };
        assert!(unreadable.input(&token).is_none());
        assert!(unreadable.create(&token).is_none());
    }

    /// A status change is an ask the step translates (a meeting, its end, or nothing): it is
    /// never written on a row, whatever the status and whether a row or a meeting exists.
    #[test]
    fn a_status_change_asks_by_the_status_and_is_never_written_on_a_row() {
        let live = serde_json::json!({"appointment_id": 42, "status": "active", "zoom_id": "1",
            "correlation_ref": "kc-0123456789abcdef0123",
            "join_url": "https://zoom.us/j/1", "doctor_id": 7, "version": 3, "updated_at": 1});
        for status in [None, Some(0), Some(1), Some(2), Some(3), Some(4)] {
            for row in [None, Some(live.clone())] {
                let input = serde_json::json!({"appointment_id": 42, "intent": "status_changed",
                    "appointment": {"known": true, "exists": true, "status": status, "doctor_id": 7,
                        "start_unix": 1_000, "duration_min": 30, "timezone": "UTC"},
                    "row": row, "host": "me", "now": 100, "random": "ab".repeat(RANDOM_BYTES)});
                let out = step(&read(Json::from(input)).unwrap()).unwrap();
                let intent = out.write.as_ref().and_then(|w| w.intent);
                assert_ne!(intent, Some(Intent::StatusChanged));
                let expected = match status {
                    // (the live row here has no times, so its meeting is to be moved)
                    Some(1 | 4) => Some(Intent::Ensure),
                    Some(0) if row.is_some() => Some(Intent::Cancel),
                    _ => None,
                };
                assert_eq!(intent, expected, "status {status:?}, row {}", row.is_some());
            }
        }
    }

    /// Only a row that never reached Zoom is ever forgotten, and only when it owes nothing
    /// now: a failed row (administrators retry it), one with a create unaccounted for, one
    /// with a meeting, or one whose appointment wants a meeting is kept.
    #[test]
    fn only_a_row_that_never_reached_zoom_and_owes_nothing_is_forgotten() {
        let run = |row: serde_json::Value, status: u16| {
            let input = serde_json::json!({"appointment_id": 42, "row": row, "host": "me",
                "appointment": {"known": true, "exists": true, "status": status, "doctor_id": 7,
                    "start_unix": 1_000, "duration_min": 30, "timezone": "UTC"},
                "now": 100, "random": "ab".repeat(RANDOM_BYTES)});
            step(&read(Json::from(input)).unwrap()).unwrap()
        };
        let placeholder = serde_json::json!({"appointment_id": 42, "status": "pending",
            "correlation_ref": "", "intent": "status_changed", "version": 1, "updated_at": 1});
        for status in [0, 2, 3] {
            let out = run(placeholder.clone(), status);
            assert!(out.forget, "status {status}");
            assert_eq!(out.write, None);
            assert!(matches!(out.effect, Effect::Finish { .. }));
        }
        assert!(
            !run(placeholder.clone(), 1).forget,
            "booked: the meeting is made"
        );
        let mut kept = Vec::new();
        for (field, value) in [
            ("status", serde_json::json!("failed")),
            ("correlation_ref", serde_json::json!("kc-0011223344556677")),
            ("unconfirmed", serde_json::json!(true)),
            ("zoom_id", serde_json::json!("85746065123")),
        ] {
            let mut row = placeholder.clone();
            row[field] = value;
            kept.push(run(row, 0).forget);
        }
        assert_eq!(kept, [false; 4]);
    }

    /// The step's own reading of Zoom's answer names each outcome as `api.interpret` writes
    /// it, so the fold sees the same thing whichever way the answer came.
    #[test]
    fn the_steps_own_reading_names_each_outcome_as_api_interpret_writes_it() {
        let every = [
            Outcome::Done {
                result: Box::new(Answer::Nothing),
            },
            Outcome::RefreshThenRetry,
            Outcome::Reconnect {
                reason: "token_revoked",
                message: "connect again".into(),
            },
            Outcome::Gone,
            Outcome::RetryAt {
                at: 5,
                reason: "rate_limited",
            },
            Outcome::RecoverThenRetry {
                at: 6,
                reason: "network",
            },
            Outcome::CheckStored,
            Outcome::Fail {
                code: "zoom_error".into(),
                message: "no".into(),
                http_status: Some(400),
            },
        ];
        for o in every {
            let written: serde_json::Value =
                serde_json::from_str(&crate::json::write::to_json(&o).unwrap()).unwrap();
            let read = OutcomeIn::from_outcome(o);
            assert_eq!(written["action"], read.action.as_str());
            assert_eq!(written.get("at").and_then(|v| v.as_i64()), read.at);
            for (key, got) in [
                ("reason", &read.reason),
                ("code", &read.code),
                ("message", &read.message),
            ] {
                assert_eq!(written.get(key).and_then(|v| v.as_str()), got.as_deref());
            }
        }
    }
}
