//! Zoom meeting requests built from appointment facts, and meeting answers parsed into
//! records. Every URL is built against the token's `api_url`.

use crate::error::{CoreError, Result};
use crate::http::HttpRequest;
use crate::json::{FromJson, Json, Lenient};
use crate::policy::{is_email, max_chars, MeetingPolicy, PolicyLayer, ZoomSettings};
use crate::random::HostRandom;
use crate::secret::Secret;
use crate::timefmt::zoom_utc;
use crate::weburl::{push_segments, with_query, UrlError, WebUrl};
use serde::Serialize;

/// Where and as whom to call the Meeting API.
#[derive(Debug, Clone, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct ApiAuth {
    pub access_token: Secret,
    pub api_url: String,
}

/// What the host knows of one appointment. Times are Unix UTC seconds.
#[derive(Debug, Clone, PartialEq, FromJson)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct AppointmentFacts {
    pub id: u64,
    #[cfg_attr(feature = "browser", serde(default))]
    pub doctor_id: Option<u64>,
    #[cfg_attr(feature = "browser", serde(default))]
    pub patient_id: Option<u64>,
    pub start_unix: i64,
    pub duration_min: i64,
    /// IANA name of the timezone Zoom should display; never used to compute the time.
    pub timezone: String,
    /// The opaque reference put in the topic so an interrupted create can be found again.
    pub correlation_ref: String,
    #[cfg_attr(feature = "browser", serde(default))]
    pub doctor_name: Option<String>,
    #[cfg_attr(feature = "browser", serde(default))]
    pub patient_name: Option<String>,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
#[from_json(inline)]
pub struct CreateInput {
    pub auth: ApiAuth,
    pub host: String,
    pub appointment: AppointmentFacts,
    #[serde(default)]
    pub policy: PolicyLayer,
    #[serde(default)]
    pub overrides: PolicyLayer,
    /// Hex entropy for the passcode: at least 16 bytes.
    pub random: String,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    pub auth: ApiAuth,
    pub meeting_id: MeetingId,
    pub appointment: AppointmentFacts,
    #[serde(default)]
    pub policy: PolicyLayer,
    #[serde(default)]
    pub overrides: PolicyLayer,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct MeetingRef {
    pub auth: ApiAuth,
    pub meeting_id: MeetingId,
    /// Delete only: tell registrants and alternative hosts by email.
    #[serde(default)]
    pub notify: bool,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    pub auth: ApiAuth,
    #[serde(default = "me")]
    pub user: String,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    pub auth: ApiAuth,
    pub host: String,
    pub next_page_token: Option<String>,
}

/// The patient registered on their visit's meeting: their own join link, and a registrant id
/// that Zoom's participant events then carry.
#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct RegistrantInput {
    pub auth: ApiAuth,
    pub meeting_id: MeetingId,
    pub email: String,
    pub first_name: String,
    pub last_name: Option<String>,
}

#[derive(Serialize)]
struct RegistrantBody<'a> {
    email: &'a str,
    first_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
}

/// `POST /meetings/{id}/registrants` (the meeting was made with registration on).
pub fn add_registrant(input: &RegistrantInput) -> Result<HttpRequest> {
    let email = input.email.trim();
    if email.is_empty() || email.len() > 128 || !email.contains('@') {
        return Err(CoreError::field(
            "input_invalid",
            "email",
            "a registrant needs an email address",
        ));
    }
    // Zoom caps first and last names at 64 characters; a registration is not worth failing
    // over a long name.
    let cut = |s: &str| s.trim().chars().take(64).collect::<String>();
    let first = cut(&input.first_name);
    let last = input
        .last_name
        .as_deref()
        .map(cut)
        .filter(|s| !s.is_empty());
    let body = RegistrantBody {
        email,
        first_name: if first.is_empty() { "Patient" } else { &first },
        last_name: last.as_deref(),
    };
    let url = api_url(
        &input.auth,
        &["meetings", input.meeting_id.as_str(), "registrants"],
    )?;
    Ok(authed("POST", url, &input.auth)?.json(&body))
}

/// A registration as Zoom answered it.
pub fn parse_registrant(v: crate::json::Json) -> Result<Registration> {
    let r: Option<ZoomRegistrant> = crate::json::read(v).ok();
    match r.map(|r| (r.registrant_id.text(), r.join_url.text())) {
        Some((Some(registrant_id), Some(join_url))) => Ok(Registration {
            registrant_id,
            join_url,
        }),
        _ => Err(CoreError::new(
            "response_invalid",
            "Zoom's registration has no registrant id or join link",
        )),
    }
}

/// A registration Zoom took: the patient's own join link, and the id their events carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registration {
    pub registrant_id: String,
    pub join_url: String,
}

fn me() -> String {
    "me".into()
}

/// A Zoom meeting id: an int64, kept as a decimal string so no host rounds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MeetingId(String);

impl MeetingId {
    /// Read where it was parsed: a detour through `serde_json::Value` would bring its map
    /// and number formatting into every Zoom answer's reading.
    fn parse(v: &Json) -> Option<Self> {
        let s = match v {
            Json::Str(s) => s.trim().to_string(),
            Json::UInt(n) => itoa::Buffer::new().format(*n).to_string(),
            _ => return None,
        };
        let ok = !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
        ok.then_some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl crate::json::FromJson for MeetingId {
    fn from_json(v: crate::json::Json, at: crate::json::Path) -> Result<Self> {
        MeetingId::parse(&v)
            .ok_or_else(|| at.error("must be a positive integer (number or string)"))
    }
}

/// The API origin from a token's `api_url`: https, or http on loopback for local testing.
pub fn api_base(api_url: &str) -> Result<String> {
    // Zoom's own origin, as nearly every site has it, without the full parse.
    if let Some(origin) = crate::weburl::plain_https_origin(api_url) {
        return Ok(origin.to_string());
    }
    let bad = |m: &str| CoreError::field("api_url_invalid", "auth.api_url", m.to_string());
    let url = WebUrl::parse(api_url).map_err(|e| match e {
        UrlError::NonAsciiHost => bad("api_url host must be ASCII"),
        UrlError::Malformed => bad("api_url is not a valid URL"),
    })?;
    if !url.is_origin() {
        return Err(bad(
            "api_url must be a bare origin such as https://api.zoom.us",
        ));
    }
    if !url.is_secure_or_local() {
        return Err(bad("api_url must use https"));
    }
    Ok(url.origin())
}

fn api_url(auth: &ApiAuth, segments: &[&str]) -> Result<String> {
    api_url_at(&auth.api_url, segments)
}

fn api_url_at(api_url: &str, segments: &[&str]) -> Result<String> {
    let mut url = api_base(api_url)?;
    url.push_str("/v2");
    push_segments(&mut url, segments);
    Ok(url)
}

fn authed(method: &'static str, url: String, auth: &ApiAuth) -> Result<HttpRequest> {
    authed_by(method, url, &auth.access_token)
}

fn authed_by(method: &'static str, url: String, access_token: &Secret) -> Result<HttpRequest> {
    if access_token.is_empty() {
        return Err(CoreError::field(
            "token_missing",
            "auth.access_token",
            "an access token is required",
        ));
    }
    let token = access_token.expose();
    let mut bearer = String::with_capacity(7 + token.len());
    bearer.push_str("Bearer ");
    bearer.push_str(token);
    Ok(HttpRequest::new(method, url)
        .header("authorization", bearer)
        .header("accept", "application/json"))
}

/// The host as Zoom takes it in a path: `me`, a Zoom user id, or the user's email.
pub fn validate_host(host: &str) -> Result<()> {
    let ok = host == "me"
        || is_email(host)
        || ((8..=64).contains(&host.len())
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::field(
            "host_invalid",
            "host",
            "host must be \"me\", a Zoom user id or an email address",
        ))
    }
}

/// An IANA-shaped name: `/`-separated non-empty parts of letters, digits, `_`, `+` and `-`,
/// starting with a letter.
pub fn validate_timezone(tz: &str) -> Result<()> {
    let b = tz.as_bytes();
    let mut ok = !b.is_empty() && b.len() <= 64 && b[0].is_ascii_alphabetic();
    let mut prev = b'/';
    for &c in b {
        ok &= c.is_ascii_alphanumeric()
            || matches!(c, b'_' | b'+' | b'-')
            || (c == b'/' && prev != b'/');
        prev = c;
    }
    ok &= prev != b'/';
    if ok {
        Ok(())
    } else {
        Err(CoreError::field(
            "timezone_invalid",
            "appointment.timezone",
            "timezone must be an IANA name such as Europe/Berlin or UTC",
        ))
    }
}

fn validate_ref(r: &str) -> Result<()> {
    let ok = (8..=40).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CoreError::field(
            "correlation_ref_invalid",
            "appointment.correlation_ref",
            "correlation reference must be 8 to 40 letters, digits, - or _",
        ))
    }
}

/// Start, duration and timezone, checked and in Zoom's form.
fn schedule(a: &AppointmentFacts, policy: &MeetingPolicy) -> Result<(String, i64)> {
    if a.duration_min <= 0 || a.duration_min > policy.max_duration {
        return Err(CoreError::field(
            "duration_invalid",
            "appointment.duration_min",
            format!(
                "duration must be between 1 and {} minutes",
                policy.max_duration
            ),
        ));
    }
    validate_timezone(&a.timezone)?;
    if a.start_unix <= 0 {
        return Err(CoreError::field(
            "start_invalid",
            "appointment.start_unix",
            "start must be a positive Unix time in seconds",
        ));
    }
    Ok((
        zoom_utc(a.start_unix, "appointment.start_unix")?,
        a.duration_min,
    ))
}

/// The topic from the template; it always carries the correlation reference. Placeholders
/// are filled in one pass, so a name that itself looks like a placeholder stays as typed.
pub fn render_topic(template: &str, a: &AppointmentFacts) -> Result<String> {
    let mut id = itoa::Buffer::new();
    let id = id.format(a.id);
    let values = [
        ("{ref}", a.correlation_ref.as_str()),
        ("{appointment_id}", id),
        ("{doctor_name}", a.doctor_name.as_deref().unwrap_or("")),
        ("{patient_name}", a.patient_name.as_deref().unwrap_or("")),
    ];
    let mut topic = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut has_ref = false;
    while let Some(i) = rest.find('{') {
        topic.push_str(&rest[..i]);
        rest = &rest[i..];
        match values.iter().find(|(p, _)| rest.starts_with(p)) {
            Some((p, v)) => {
                topic.push_str(v);
                rest = &rest[p.len()..];
                has_ref |= *p == "{ref}";
            }
            None => {
                topic.push('{');
                rest = &rest[1..];
            }
        }
    }
    topic.push_str(rest);
    // The search is needed only when the template had no {ref} (the default has one).
    if !has_ref && !topic.contains(&a.correlation_ref) {
        topic = format!("{} {}", topic.trim_end(), a.correlation_ref);
    }
    // Copied again only when there is something to trim.
    if topic.trim().len() != topic.len() {
        topic = topic.trim().to_string();
    }
    max_chars("topic", &topic, 200)?;
    Ok(topic)
}

pub fn create(input: &CreateInput) -> Result<HttpRequest> {
    create_from(&CreateFrom {
        access_token: &input.auth.access_token,
        api_url: &input.auth.api_url,
        host: &input.host,
        appointment: &input.appointment,
        policy: &input.policy,
        overrides: &input.overrides,
        random: &input.random,
    })
}

/// A create's input, borrowed: a lifecycle step builds the create from what it holds
/// without copying each text into a [`CreateInput`] first.
pub struct CreateFrom<'a> {
    pub access_token: &'a Secret,
    pub api_url: &'a str,
    pub host: &'a str,
    pub appointment: &'a AppointmentFacts,
    pub policy: &'a PolicyLayer,
    pub overrides: &'a PolicyLayer,
    pub random: &'a str,
}

/// [`create`] on borrowed parts.
pub fn create_from(input: &CreateFrom) -> Result<HttpRequest> {
    let policy = MeetingPolicy::resolve(&[input.policy, input.overrides])?;
    validate_host(input.host)?;
    validate_ref(&input.appointment.correlation_ref)?;
    let (start_time, duration) = schedule(input.appointment, &policy)?;
    let topic = render_topic(policy.topic_template, input.appointment)?;
    let mut random = HostRandom::from_hex(input.random, "random", 16)?;
    let body = CreateBody {
        topic: &topic,
        kind: 2,
        start_time: &start_time,
        duration,
        timezone: &input.appointment.timezone,
        password: &policy.passcode(&mut random),
        agenda: policy.agenda,
        settings: policy.zoom_settings(),
    };
    let url = api_url_at(input.api_url, &["users", input.host, "meetings"])?;
    Ok(authed_by("POST", url, input.access_token)?.json(&body))
}

/// Zoom's create-meeting body (`meetingCreate`), written straight to JSON.
#[derive(Serialize)]
struct CreateBody<'a> {
    topic: &'a str,
    /// 2: a scheduled meeting.
    #[serde(rename = "type")]
    kind: u8,
    start_time: &'a str,
    duration: i64,
    timezone: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agenda: Option<&'a str>,
    settings: ZoomSettings<'a>,
}

/// Zoom's update body (`meetingUpdate`) for a reschedule.
#[derive(Serialize)]
struct UpdateBody<'a> {
    start_time: &'a str,
    duration: i64,
    timezone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agenda: Option<&'a str>,
}

/// A reschedule: new time, duration and display timezone; the rest stays as created.
pub fn update(input: &UpdateInput) -> Result<HttpRequest> {
    let policy = MeetingPolicy::resolve(&[&input.policy, &input.overrides])?;
    let (start_time, duration) = schedule(&input.appointment, &policy)?;
    let body = UpdateBody {
        start_time: &start_time,
        duration,
        timezone: &input.appointment.timezone,
        agenda: policy.agenda,
    };
    let url = api_url(&input.auth, &["meetings", input.meeting_id.as_str()])?;
    Ok(authed("PATCH", url, &input.auth)?.json(&body))
}

pub fn delete(input: &MeetingRef) -> Result<HttpRequest> {
    let url = api_url(&input.auth, &["meetings", input.meeting_id.as_str()])?;
    let notify = if input.notify { "true" } else { "false" };
    let url = with_query(
        url,
        &[
            ("cancel_meeting_reminder", notify),
            ("schedule_for_reminder", notify),
        ],
    );
    authed("DELETE", url, &input.auth)
}

/// `GET /meetings/{id}`: the way to a fresh `start_url` right before "Start" is shown.
pub fn get(input: &MeetingRef) -> Result<HttpRequest> {
    let url = api_url(&input.auth, &["meetings", input.meeting_id.as_str()])?;
    authed("GET", url, &input.auth)
}

pub fn get_user(input: &UserRef) -> Result<HttpRequest> {
    validate_host(&input.user)?;
    let url = api_url(&input.auth, &["users", &input.user])?;
    authed("GET", url, &input.auth)
}

/// A host's scheduled meetings, one page: where an interrupted create is looked for.
/// `scheduled` (not `upcoming`) so a meeting whose start time has passed is found too.
pub fn list(input: &ListInput) -> Result<HttpRequest> {
    validate_host(&input.host)?;
    let url = api_url(&input.auth, &["users", &input.host, "meetings"])?;
    let mut q = vec![("type", "scheduled"), ("page_size", "300")];
    if let Some(t) = input.next_page_token.as_deref().filter(|t| !t.is_empty()) {
        q.push(("next_page_token", t));
    }
    authed("GET", with_query(url, &q), &input.auth)
}

/// A meeting as Zoom describes it, reduced to what the host stores and shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeetingRecord {
    pub zoom_id: MeetingId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    pub topic: String,
    pub join_url: String,
    /// The host's credential: show it to the host only, and refresh it before use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Settings as Zoom applied them (it may override what was asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Json<'static>>,
}

/// Zoom's meeting object, as much as the addon reads: Zoom's own shape (`id`) or a
/// [`MeetingRecord`] the core returned earlier (`zoom_id`). Unknown fields are ignored and a
/// field of the wrong type reads as absent.
#[derive(FromJson)]
#[from_json(inline)]
struct ZoomMeeting {
    id: Lenient<MeetingId>,
    zoom_id: Lenient<MeetingId>,
    uuid: Lenient<String>,
    topic: Lenient<String>,
    join_url: Lenient<String>,
    start_url: Lenient<String>,
    password: Lenient<String>,
    host_email: Lenient<String>,
    host_id: Lenient<String>,
    start_time: Lenient<String>,
    duration: Lenient<i64>,
    timezone: Lenient<String>,
    status: Lenient<String>,
    /// Passed through as Zoom wrote it.
    settings: Option<Json<'static>>,
}

/// Parses a meeting object tolerantly: unknown fields are ignored, the id may be a
/// number or a string, and only the id and `join_url` are required. Zoom's own shape
/// (`id`) and a [`MeetingRecord`] the core returned earlier (`zoom_id`) both parse, so a
/// host can pass an interpreted result straight on.
/// (One reader for the lean tree: a caller with a serde_json value converts it, so the
/// `.wasm` carries one copy.)
pub fn parse_meeting(v: crate::json::Json<'_>) -> Result<MeetingRecord> {
    let bad = |m: &str| CoreError::new("meeting_response_invalid", m.to_string());
    let v: ZoomMeeting =
        crate::json::read(v).map_err(|_| bad("Zoom's meeting is not an object"))?;
    let zoom_id =
        v.id.get()
            .or(v.zoom_id.get())
            .ok_or_else(|| bad("Zoom's meeting has no usable id"))?;
    let join_url = v
        .join_url
        .get()
        .ok_or_else(|| bad("Zoom's meeting has no join_url"))?;
    Ok(MeetingRecord {
        zoom_id,
        uuid: v.uuid.get(),
        topic: v.topic.get().unwrap_or_default(),
        join_url,
        start_url: v.start_url.get(),
        password: v.password.get(),
        host_email: v.host_email.get(),
        host_id: v.host_id.get(),
        start_time: v.start_time.get(),
        duration: v.duration.get(),
        timezone: v.timezone.get(),
        status: v.status.get(),
        settings: v.settings,
    })
}

/// Zoom's answer to a registration.
#[derive(FromJson)]
struct ZoomRegistrant {
    registrant_id: Lenient<String>,
    join_url: Lenient<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn input(v: Value) -> CreateInput {
        crate::json::read(v).unwrap()
    }

    /// Read from the parse itself (no `serde_json::Value` on the way): what serde_json's
    /// reading accepted, and only that.
    #[test]
    fn a_meeting_id_is_a_non_negative_integer_or_its_digits_in_a_string() {
        let read = |text: &str| {
            crate::json::read::<MeetingId>(serde_json::from_str::<Value>(text).unwrap())
                .ok()
                .map(|m| m.as_str().to_string())
        };
        assert_eq!(read("85746065999").as_deref(), Some("85746065999"));
        assert_eq!(
            read("18446744073709551615").as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(read("\" 0042 \"").as_deref(), Some("0042"));
        assert_eq!(read("0").as_deref(), Some("0"));
        for bad in [
            "-1",
            "1.5",
            "1e3",
            "\"\"",
            "\"12a\"",
            "\"123456789012345678901\"",
            "null",
            "true",
            "[1]",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    fn base() -> Value {
        json!({
            "auth": {"access_token": "tok", "api_url": "https://api.zoom.us"},
            "host": "me",
            "appointment": {
                "id": 42, "start_unix": 1767261600, "duration_min": 30,
                "timezone": "Asia/Kolkata", "correlation_ref": "kc-0123456789ab"
            },
            "random": "00112233445566778899aabbccddeeff"
        })
    }

    #[test]
    fn start_time_is_utc_from_unix_never_local_with_z() {
        // 10:00 UTC is 15:30 in Kolkata. The shipped addon sent "15:30:00Z": wrong by 5h30.
        let req = create(&input(base())).unwrap();
        let body: Value = serde_json::from_str(&req.body.as_ref().unwrap().as_text()).unwrap();
        assert_eq!(body["start_time"], "2026-01-01T10:00:00Z");
        assert_ne!(body["start_time"], "2026-01-01T15:30:00Z");
        assert_eq!(body["timezone"], "Asia/Kolkata");
    }

    #[test]
    fn create_request_shape() {
        let req = create(&input(base())).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://api.zoom.us/v2/users/me/meetings");
        assert_eq!(req.headers.get("authorization"), Some("Bearer tok"));
        let body: Value = serde_json::from_str(&req.body.as_ref().unwrap().as_text()).unwrap();
        assert_eq!(body["topic"], "Telemedicine consultation kc-0123456789ab");
        assert_eq!(body["type"], 2);
        assert_eq!(body["password"].as_str().unwrap().len(), 10);
    }

    #[test]
    fn topic_keeps_the_reference_and_its_limit() {
        let mut v = base();
        v["policy"] = json!({"topic_template": "Consult with {doctor_name}"});
        v["appointment"]["doctor_name"] = json!("Dr Who");
        let req = create(&input(v.clone())).unwrap();
        let body: Value = serde_json::from_str(&req.body.as_ref().unwrap().as_text()).unwrap();
        assert_eq!(body["topic"], "Consult with Dr Who kc-0123456789ab");
        v["policy"] = json!({"topic_template": "x".repeat(200)});
        let e = create(&input(v)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("topic"));
    }

    #[test]
    fn placeholders_fill_in_one_pass() {
        let mut v = base();
        v["appointment"]["doctor_name"] = json!("Dr {patient_name}");
        v["appointment"]["patient_name"] = json!("P");
        let a: AppointmentFacts = crate::json::read(v["appointment"].take()).unwrap();
        let t = render_topic(
            "{doctor_name}/{patient_name} #{appointment_id} {x} {ref",
            &a,
        )
        .unwrap();
        // A value that looks like a placeholder stays as typed; unknown braces stay too.
        assert_eq!(t, "Dr {patient_name}/P #42 {x} {ref kc-0123456789ab");
        assert_eq!(
            render_topic("{ref}: {ref}", &a).unwrap(),
            "kc-0123456789ab: kc-0123456789ab"
        );
    }

    #[test]
    fn email_host_goes_into_the_path() {
        let mut v = base();
        v["host"] = json!("dr.a@clinic.example");
        let req = create(&input(v)).unwrap();
        assert_eq!(
            req.url,
            "https://api.zoom.us/v2/users/dr.a@clinic.example/meetings"
        );
    }

    #[test]
    fn hosts_are_checked() {
        assert!(validate_host("me").is_ok());
        assert!(validate_host("KDcuGIm1QgePTO8WbOqwIQ").is_ok());
        assert!(validate_host("a b").is_err());
        assert!(validate_host("../admin").is_err());
    }

    #[test]
    fn api_url_must_be_https_origin() {
        assert!(api_base("https://api.zoom.us").is_ok());
        assert!(api_base("http://127.0.0.1:9000").is_ok());
        assert!(api_base("http://api.zoom.us").is_err());
        assert!(api_base("https://api.zoom.us/v2").is_err());
        assert!(api_base("nonsense").is_err());
    }

    #[test]
    fn meeting_ids_stay_strings() {
        let m = parse_meeting(json!({"id": 98765432101u64, "join_url": "https://z/j/1"}).into())
            .unwrap();
        assert_eq!(m.zoom_id.as_str(), "98765432101");
        let m =
            parse_meeting(json!({"id": "9223372036854775807", "join_url": "j"}).into()).unwrap();
        assert_eq!(m.zoom_id.as_str(), "9223372036854775807");
        assert!(parse_meeting(json!({"id": -1, "join_url": "j"}).into()).is_err());
        assert!(parse_meeting(json!({"id": 5}).into()).is_err());
    }

    #[test]
    fn delete_carries_reminder_flags() {
        let r: MeetingRef = crate::json::read(json!({
            "auth": {"access_token": "t", "api_url": "https://api.zoom.us"},
            "meeting_id": 123
        }))
        .unwrap();
        assert_eq!(
            delete(&r).unwrap().url,
            "https://api.zoom.us/v2/meetings/123?cancel_meeting_reminder=false&schedule_for_reminder=false"
        );
    }
}
