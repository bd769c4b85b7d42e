//! The nightly reconcile's one decision that no single row can make: which meetings at Zoom
//! are ours (their topic carries a correlation reference) but belong to no appointment any
//! more, so they are deleted. Each row's own check is `lifecycle.step` with intent `verify`.

use crate::json::FromJson;
use crate::meeting::parse_meeting;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct OrphansInput {
    /// A host's meetings, every page (`meetings` of interpreted `list_meetings` answers).
    pub meetings: Vec<Value>,
    /// The meetings the mapping table holds (any row naming a zoom id).
    #[serde(default)]
    pub known_meetings: Vec<String>,
    /// References of rows whose create may still be unaccounted for: their meeting is not an
    /// orphan, recovery adopts it.
    #[serde(default)]
    pub open_refs: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Orphans {
    /// Delete these at Zoom (a 404 counts as done).
    pub delete: Vec<String>,
}

/// A correlation reference as the core makes them: `kc-` and 20 lower-case hex digits.
fn reference_in(topic: &str) -> Option<&str> {
    crate::mapping::topic_words(topic).find(|w| {
        w.len() == 23
            && w.starts_with("kc-")
            && w[3..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn orphans(input: &OrphansInput) -> Orphans {
    let mut delete: Vec<String> = input
        .meetings
        .iter()
        .filter_map(|m| parse_meeting(m.clone().into()).ok())
        .filter(|m| {
            let id = m.zoom_id.as_str();
            match reference_in(&m.topic) {
                // Not ours (made in Zoom by hand, or by another tool): never touched.
                None => false,
                Some(r) => {
                    !input.known_meetings.iter().any(|k| k == id)
                        && !input.open_refs.iter().any(|o| o == r)
                }
            }
        })
        .map(|m| m.zoom_id.as_str().to_string())
        .collect();
    delete.sort();
    delete.dedup();
    Orphans { delete }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_our_meetings_without_a_row_are_orphans() {
        let m = |id: u64, topic: &str| json!({"id": id, "join_url": "j", "topic": topic});
        let out = orphans(&OrphansInput {
            meetings: vec![
                m(1, "Visit kc-0123456789abcdef0123"),
                m(2, "Visit kc-0123456789abcdef0124"),
                m(3, "Team standup"),
                m(4, "Visit kc-0123456789abcdef0125"),
                m(5, "Visit kc-0123456789ABCDEF0126"),
            ],
            known_meetings: vec!["1".into()],
            open_refs: vec!["kc-0123456789abcdef0125".into()],
        });
        assert_eq!(out.delete, vec!["2".to_string()]);
    }
}
