//! The clinic's meeting policy: safe defaults, per-appointment overrides, and every Zoom
//! limit checked with an error that names the field at fault.

use crate::error::{CoreError, Result};
use crate::json::FromJson;
use crate::random::HostRandom;
use serde::Serialize;

/// Zoom's passcode alphabet: `[A-Za-z0-9@_*-]`, at most 10 characters.
pub const PASSCODE_MAX: usize = 10;
/// Longest meeting a clinic may schedule, whatever its own policy says (24 hours).
pub const DURATION_HARD_MAX: u32 = 1440;
const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
const DIGITS: &[u8] = b"0123456789";

/// A policy layer as the host sends it: every field optional, unknown fields refused so a
/// misspelt setting is an error rather than silently ignored.
#[derive(Debug, Clone, Default, Serialize, PartialEq, FromJson)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "browser", derive(tsify::Tsify))]
#[from_json(inline)]
pub struct PolicyLayer {
    pub waiting_room: Option<bool>,
    pub join_before_host: Option<bool>,
    pub jbh_time: Option<i64>,
    pub mute_upon_entry: Option<bool>,
    pub host_video: Option<bool>,
    pub participant_video: Option<bool>,
    pub auto_recording: Option<String>,
    pub encryption_type: Option<String>,
    pub meeting_authentication: Option<bool>,
    pub audio: Option<String>,
    pub alternative_hosts: Option<Vec<String>>,
    pub passcode_length: Option<i64>,
    pub passcode_alphabet: Option<String>,
    pub max_duration: Option<i64>,
    pub topic_template: Option<String>,
    pub agenda: Option<String>,
    /// A fixed passcode instead of a generated one (overrides only, in practice).
    pub password: Option<String>,
    /// Register the patient on their meeting: their own join link, and Zoom's participant
    /// events name them for certain (check-in, "your patient is waiting").
    pub register_patient: Option<bool>,
}

/// The resolved policy: defaults, then the clinic's layer, then overrides. It borrows its
/// texts from the layers (or the defaults): resolving runs on every create and update, and
/// copying each text was an allocation apiece.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeetingPolicy<'a> {
    pub waiting_room: bool,
    pub join_before_host: bool,
    pub jbh_time: i64,
    pub mute_upon_entry: bool,
    pub host_video: bool,
    pub participant_video: bool,
    pub auto_recording: &'a str,
    pub encryption_type: &'a str,
    pub meeting_authentication: bool,
    pub audio: &'a str,
    pub alternative_hosts: &'a [String],
    pub passcode_length: i64,
    pub passcode_alphabet: &'a str,
    pub max_duration: i64,
    pub topic_template: &'a str,
    pub agenda: Option<&'a str>,
    pub password: Option<&'a str>,
    pub register_patient: bool,
}

pub const DEFAULT_TOPIC_TEMPLATE: &str = "Telemedicine consultation {ref}";

impl Default for MeetingPolicy<'_> {
    /// Safe for a clinic: waiting room on, nobody joins before the host, a passcode,
    /// no recording, enhanced encryption, no patient data in the topic.
    fn default() -> Self {
        Self {
            waiting_room: true,
            join_before_host: false,
            jbh_time: 0,
            mute_upon_entry: true,
            host_video: true,
            participant_video: true,
            auto_recording: "none",
            encryption_type: "enhanced_encryption",
            meeting_authentication: false,
            audio: "voip",
            alternative_hosts: &[],
            passcode_length: PASSCODE_MAX as i64,
            passcode_alphabet: "alphanumeric",
            max_duration: 240,
            topic_template: DEFAULT_TOPIC_TEMPLATE,
            agenda: None,
            password: None,
            register_patient: false,
        }
    }
}

/// Copies a layer's settings over the policy: flags and numbers as they are, texts and
/// lists borrowed.
macro_rules! overlay {
    ($dst:ident, $layer:ident, copy: $($c:ident),*; borrow: $($b:ident),*) => {
        $( if let Some(v) = $layer.$c { $dst.$c = v; } )*
        $( if let Some(v) = $layer.$b.as_deref() { $dst.$b = v; } )*
    };
}

impl<'a> MeetingPolicy<'a> {
    /// Applies layers in order and validates the result.
    pub fn resolve(layers: &[&'a PolicyLayer]) -> Result<Self> {
        let p = Self::merge(layers);
        match p.check().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(p),
        }
    }

    /// Every problem of the merged layers, for forms that show them all at once.
    pub fn problems(layers: &[&'a PolicyLayer]) -> Vec<CoreError> {
        Self::merge(layers).check()
    }

    /// The layers merged over the defaults, valid or not: what a settings form shows.
    pub(crate) fn merge(layers: &[&'a PolicyLayer]) -> Self {
        let mut p = Self::default();
        for layer in layers {
            overlay!(
                p,
                layer,
                copy: waiting_room,
                join_before_host,
                jbh_time,
                mute_upon_entry,
                host_video,
                participant_video,
                meeting_authentication,
                passcode_length,
                max_duration,
                register_patient;
                borrow: auto_recording,
                encryption_type,
                audio,
                alternative_hosts,
                passcode_alphabet,
                topic_template
            );
            if layer.agenda.is_some() {
                p.agenda = layer.agenda.as_deref();
            }
            if layer.password.is_some() {
                p.password = layer.password.as_deref();
            }
        }
        p
    }

    /// Every setting spelt out as a layer (a form fills its fields from it, and compares
    /// against the defaults' to send only what differs).
    pub fn as_layer(&self) -> PolicyLayer {
        PolicyLayer {
            waiting_room: Some(self.waiting_room),
            join_before_host: Some(self.join_before_host),
            jbh_time: Some(self.jbh_time),
            mute_upon_entry: Some(self.mute_upon_entry),
            host_video: Some(self.host_video),
            participant_video: Some(self.participant_video),
            auto_recording: Some(self.auto_recording.to_string()),
            encryption_type: Some(self.encryption_type.to_string()),
            meeting_authentication: Some(self.meeting_authentication),
            audio: Some(self.audio.to_string()),
            alternative_hosts: Some(self.alternative_hosts.to_vec()),
            passcode_length: Some(self.passcode_length),
            passcode_alphabet: Some(self.passcode_alphabet.to_string()),
            max_duration: Some(self.max_duration),
            topic_template: Some(self.topic_template.to_string()),
            agenda: self.agenda.map(str::to_string),
            password: self.password.map(str::to_string),
            register_patient: Some(self.register_patient),
        }
    }

    fn check(&self) -> Vec<CoreError> {
        let mut errs = Vec::new();
        let mut push = |r: Result<()>| {
            if let Err(e) = r {
                errs.push(e);
            }
        };
        push(one_of("jbh_time", self.jbh_time, &[0, 5, 10]));
        if self.waiting_room && self.join_before_host {
            push(Err(CoreError::field(
                "policy_conflict",
                "join_before_host",
                "join before host cannot be on while the waiting room is on",
            )));
        }
        // A text still at its default (the very same static string: a layer's text lives
        // in the input) is valid by construction; only texts a layer set are looked up.
        let d = Self::default();
        let set = |v: &str, default: &str| !std::ptr::eq(v, default);
        let texts: [(&str, &str, &str, &[&str]); 4] = [
            (
                "auto_recording",
                self.auto_recording,
                d.auto_recording,
                &["none", "local", "cloud"],
            ),
            (
                "encryption_type",
                self.encryption_type,
                d.encryption_type,
                &["enhanced_encryption", "e2ee"],
            ),
            ("audio", self.audio, d.audio, &["both", "telephony", "voip"]),
            (
                "passcode_alphabet",
                self.passcode_alphabet,
                d.passcode_alphabet,
                &["alphanumeric", "numeric"],
            ),
        ];
        for (field, v, default, allowed) in texts {
            if set(v, default) {
                push(one_of_str(field, v, allowed));
            }
        }
        if self.encryption_type == "e2ee" && self.auto_recording == "cloud" {
            push(Err(CoreError::field(
                "policy_conflict",
                "auto_recording",
                "cloud recording is not available with end-to-end encryption",
            )));
        }
        if self.encryption_type == "e2ee" && self.audio != "voip" {
            push(Err(CoreError::field(
                "policy_conflict",
                "audio",
                "telephone dial-in is not available with end-to-end encryption",
            )));
        }
        if !(6..=PASSCODE_MAX as i64).contains(&self.passcode_length) {
            push(Err(CoreError::field(
                "passcode_length_invalid",
                "passcode_length",
                "passcode length must be between 6 and 10",
            )));
        }
        if !(1..=DURATION_HARD_MAX as i64).contains(&self.max_duration) {
            push(Err(CoreError::field(
                "duration_invalid",
                "max_duration",
                format!("maximum duration must be between 1 and {DURATION_HARD_MAX} minutes"),
            )));
        }
        if !set(self.topic_template, d.topic_template) {
            // The default template.
        } else if self.topic_template.trim().is_empty() {
            push(Err(CoreError::field(
                "topic_invalid",
                "topic_template",
                "topic template cannot be empty",
            )));
        } else {
            push(max_chars("topic_template", self.topic_template, 200));
        }
        if let Some(agenda) = &self.agenda {
            push(max_chars("agenda", agenda, 2000));
        }
        if let Some(pw) = &self.password {
            push(validate_passcode(pw));
        }
        for (i, host) in self.alternative_hosts.iter().enumerate() {
            if !is_email(host) {
                push(Err(CoreError::field(
                    "alternative_host_invalid",
                    format!("alternative_hosts[{i}]"),
                    "each alternative host must be an email address",
                )));
            }
        }
        errs
    }

    /// The passcode to send: the fixed one, or one drawn from host entropy without bias.
    pub fn passcode(&self, random: &mut HostRandom) -> String {
        if let Some(pw) = self.password {
            return pw.to_string();
        }
        let alphabet = if self.passcode_alphabet == "numeric" {
            DIGITS
        } else {
            ALNUM
        };
        let n = alphabet.len();
        let limit = 256 - 256 % n;
        let mut out = String::new();
        while out.len() < self.passcode_length as usize {
            let b = random.take(1);
            let Some(&b) = b.first() else {
                // Entropy ran out (the input size is checked); fall back deterministically.
                out.push(alphabet[out.len() % n] as char);
                continue;
            };
            if (b as usize) < limit {
                out.push(alphabet[b as usize % n] as char);
            }
        }
        out
    }

    /// Zoom's `settings` object for this policy.
    pub fn zoom_settings(&self) -> ZoomSettings<'_> {
        ZoomSettings {
            host_video: self.host_video,
            participant_video: self.participant_video,
            join_before_host: self.join_before_host,
            // Zoom reads jbh_time only with join before host on.
            jbh_time: self.join_before_host.then_some(self.jbh_time),
            mute_upon_entry: self.mute_upon_entry,
            waiting_room: self.waiting_room,
            // 0: registration on, approved at once (the patient is registered by the addon);
            // 2: no registration.
            approval_type: if self.register_patient { 0 } else { 2 },
            // 1: register once for the meeting.
            registration_type: self.register_patient.then_some(1),
            audio: self.audio,
            auto_recording: self.auto_recording,
            encryption_type: self.encryption_type,
            meeting_authentication: self.meeting_authentication,
            // A patient visit never gets AI summaries or questions by default: since March
            // 2026 Zoom fills omitted ones from the account (ZOOM-FACTS), so say no.
            auto_start_meeting_summary: false,
            auto_start_ai_companion_questions: false,
            // Zoom separates alternative hosts with semicolons, not commas.
            alternative_hosts: (!self.alternative_hosts.is_empty())
                .then(|| self.alternative_hosts.join(";")),
        }
    }
}

/// Zoom's meeting `settings`, written straight to JSON (no intermediate `Value`).
#[derive(Debug, Serialize)]
pub struct ZoomSettings<'a> {
    pub host_video: bool,
    pub participant_video: bool,
    pub join_before_host: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jbh_time: Option<i64>,
    pub mute_upon_entry: bool,
    pub waiting_room: bool,
    pub approval_type: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_type: Option<u8>,
    pub audio: &'a str,
    pub auto_recording: &'a str,
    pub encryption_type: &'a str,
    pub meeting_authentication: bool,
    /// Documented extensions, newer than Zoom's OpenAPI export (tools/zoom-spec).
    pub auto_start_meeting_summary: bool,
    pub auto_start_ai_companion_questions: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative_hosts: Option<String>,
}

pub fn validate_passcode(pw: &str) -> Result<()> {
    if pw.is_empty() || pw.chars().count() > PASSCODE_MAX {
        return Err(CoreError::field(
            "passcode_invalid",
            "password",
            "passcode must be 1 to 10 characters",
        ));
    }
    if !pw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"@_*-".contains(&b))
    {
        return Err(CoreError::field(
            "passcode_invalid",
            "password",
            "passcode may contain only letters, digits and @ _ * -",
        ));
    }
    Ok(())
}

pub fn max_chars(field: &str, value: &str, max: usize) -> Result<()> {
    // Never more characters than bytes: most values need no count at all.
    if value.len() <= max {
        return Ok(());
    }
    let n = value.chars().count();
    if n > max {
        return Err(CoreError::field(
            "too_long",
            field,
            format!("{field} is {n} characters; Zoom allows at most {max}"),
        ));
    }
    Ok(())
}

/// `local@domain.tld`, printable ASCII, one `@`. Written as one pass over the bytes: it runs
/// for every host and alternative host, and in the interpreter each string search is a call.
pub fn is_email(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() > 254 {
        return false;
    }
    let mut at = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_graphic() {
            return false;
        }
        if c == b'@' {
            if at.is_some() {
                return false;
            }
            at = Some(i);
        }
        i += 1;
    }
    let Some(at) = at else {
        return false;
    };
    let domain = &b[at + 1..];
    at > 0
        && domain.first() != Some(&b'.')
        && domain.last() != Some(&b'.')
        && domain.contains(&b'.')
}

fn one_of(field: &str, v: i64, allowed: &[i64]) -> Result<()> {
    if allowed.contains(&v) {
        return Ok(());
    }
    Err(CoreError::field(
        "value_not_allowed",
        field,
        format!("{field} must be one of {allowed:?}"),
    ))
}

fn one_of_str(field: &str, v: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&v) {
        return Ok(());
    }
    Err(CoreError::field(
        "value_not_allowed",
        field,
        format!("{field} must be one of {}", allowed.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::{json, Value};

    fn settings(p: &MeetingPolicy) -> Value {
        serde_json::to_value(p.zoom_settings()).unwrap()
    }

    fn layer(v: Value) -> PolicyLayer {
        crate::json::read(v).unwrap()
    }

    #[test]
    fn defaults_are_safe() {
        let s = settings(&MeetingPolicy::resolve(&[]).unwrap());
        assert_eq!(s["waiting_room"], true);
        assert_eq!(s["join_before_host"], false);
        assert_eq!(s["auto_recording"], "none");
        assert_eq!(s["encryption_type"], "enhanced_encryption");
    }

    /// `check` skips a text still at its default (the same static string): each default must
    /// pass the check it skips, and a layer's text is checked even when it spells the default.
    #[test]
    fn texts_left_at_their_defaults_are_valid_and_a_layers_texts_are_always_checked() {
        let d = MeetingPolicy::default();
        let texts = [
            (
                "auto_recording",
                d.auto_recording,
                &["none", "local", "cloud"][..],
            ),
            (
                "encryption_type",
                d.encryption_type,
                &["enhanced_encryption", "e2ee"][..],
            ),
            ("audio", d.audio, &["both", "telephony", "voip"][..]),
            (
                "passcode_alphabet",
                d.passcode_alphabet,
                &["alphanumeric", "numeric"][..],
            ),
        ];
        for (field, default, allowed) in texts {
            assert!(one_of_str(field, default, allowed).is_ok(), "{field}");
            let bad = layer(json!({ field: "bogus" }));
            let e = MeetingPolicy::resolve(&[&bad]).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
            let same = layer(json!({ field: default }));
            assert!(MeetingPolicy::resolve(&[&same]).is_ok(), "{field}");
        }
        assert!(!d.topic_template.trim().is_empty());
        assert!(max_chars("topic_template", d.topic_template, 200).is_ok());
        let blank = layer(json!({"topic_template": "  "}));
        let e = MeetingPolicy::resolve(&[&blank]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("topic_template"));
        assert!(MeetingPolicy::problems(&[]).is_empty());
    }

    /// The settings form fills its fields from a policy spelt out as a layer and saves what
    /// differs from the defaults': spelling a policy out must change nothing it resolves to.
    #[test]
    fn a_policy_spelt_out_as_a_layer_resolves_to_itself() {
        let layers = [
            json!({}),
            json!({"waiting_room": false, "join_before_host": true, "jbh_time": 5}),
            json!({"auto_recording": "cloud", "passcode_length": 6, "passcode_alphabet": "numeric",
                   "topic_template": "Visit {appointment_id}", "agenda": "Bring your list",
                   "alternative_hosts": ["nurse@clinic.example"], "register_patient": true}),
            // Invalid combinations are spelt out as they are; the check still names them.
            json!({"encryption_type": "e2ee", "auto_recording": "cloud", "max_duration": 0}),
        ];
        for v in layers {
            let l = layer(v.clone());
            let merged = MeetingPolicy::merge(&[&l]);
            let spelt = merged.as_layer();
            assert_eq!(MeetingPolicy::merge(&[&spelt]), merged, "{v}");
            let fields =
                |p: &MeetingPolicy| p.check().into_iter().map(|e| e.field).collect::<Vec<_>>();
            assert_eq!(
                fields(&MeetingPolicy::merge(&[&spelt])),
                fields(&merged),
                "{v}"
            );
        }
        let defaults = MeetingPolicy::default().as_layer();
        assert_eq!(defaults.waiting_room, Some(true));
        assert_eq!(
            defaults.topic_template.as_deref(),
            Some(DEFAULT_TOPIC_TEMPLATE)
        );
        assert_eq!(
            defaults.password, None,
            "no fixed passcode unless a layer sets one"
        );
    }

    #[test]
    fn waiting_room_and_jbh_conflict_names_the_field() {
        let l = layer(json!({"join_before_host": true}));
        let e = MeetingPolicy::resolve(&[&l]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("join_before_host"));
        let l2 = layer(json!({"waiting_room": false, "join_before_host": true, "jbh_time": 5}));
        let s = settings(&MeetingPolicy::resolve(&[&l2]).unwrap());
        assert_eq!(s["jbh_time"], 5);
    }

    #[test]
    fn jbh_time_must_be_0_5_or_10() {
        let l = layer(json!({"waiting_room": false, "join_before_host": true, "jbh_time": 7}));
        let e = MeetingPolicy::resolve(&[&l]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("jbh_time"));
    }

    #[test]
    fn alternative_hosts_join_with_semicolons() {
        let l = layer(json!({"alternative_hosts": ["a@x.org", "b@y.org"]}));
        let s = settings(&MeetingPolicy::resolve(&[&l]).unwrap());
        assert_eq!(s["alternative_hosts"], "a@x.org;b@y.org");
        let bad = layer(json!({"alternative_hosts": ["a@x.org", "not an email"]}));
        let e = MeetingPolicy::resolve(&[&bad]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("alternative_hosts[1]"));
    }

    #[test]
    fn generated_passcodes_fit_zoom_alphabet() {
        let p = MeetingPolicy::default();
        let mut r = HostRandom::from_hex(&"ab".repeat(32), "random", 16).unwrap();
        let pw = p.passcode(&mut r);
        assert_eq!(pw.len(), 10);
        validate_passcode(&pw).unwrap();
    }

    #[test]
    fn unknown_policy_fields_are_refused() {
        assert!(crate::json::read::<PolicyLayer>(json!({"waitingroom": true})).is_err());
    }

    #[test]
    fn passcode_rules() {
        assert!(validate_passcode("abc@_*-9").is_ok());
        assert!(validate_passcode("12345678901").is_err());
        assert!(validate_passcode("pass word").is_err());
        assert!(validate_passcode("").is_err());
    }
}
