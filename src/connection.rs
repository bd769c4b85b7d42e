//! A doctor's OAuth connection to Zoom: the state recorded when something happens to it,
//! whether the stored token set goes, and whether the doctor and the administrators are told.

use crate::json::FromJson;
use serde::Serialize;

/// The connection's recorded state, as the doctor's page and the status screen show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A token set is stored and Zoom took it last time.
    Connected,
    /// The doctor never connected (or nothing is stored and nothing broke).
    NotConnected,
    /// The connection broke (Zoom refused the tokens, or they no longer decrypt): connect again.
    ReconnectRequired,
    /// The doctor disconnected on purpose.
    Disconnected,
    /// The doctor removed the app in Zoom (Zoom's `app_deauthorized`).
    Deauthorized,
}

impl State {
    /// Broken against the doctor's wish: their meetings cannot be made until they connect again.
    fn broken(self) -> bool {
        matches!(self, State::ReconnectRequired | State::Deauthorized)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A token set was stored: the doctor connected, or a refresh rotated it.
    Stored,
    /// The stored set no longer decrypts (the site's key changed).
    Undecryptable,
    /// The core said the doctor must connect again (`token.decide`'s `reauthorize`, an
    /// interpreted answer's `reconnect`).
    Reauthorize,
    /// The doctor disconnected on their page.
    Disconnect,
    /// Zoom says the doctor removed the app.
    Deauthorized,
    /// WordPress is deleting the doctor's user (which takes their stored connection with
    /// it), or deleted it while their meetings needed the connection (asked again later).
    UserDeleted,
}

/// What the token store holds when the event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromJson)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    None,
    Ok,
    Undecryptable,
}

#[derive(Debug, FromJson)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    /// The state recorded now; absent when none ever was.
    pub before: Option<State>,
    pub event: Event,
    pub stored: Stored,
    /// `user_deleted` only: the doctor's meetings still owe Zoom a change (a delete Zoom has
    /// not confirmed), which only their own connection can make.
    #[serde(default)]
    pub owed: bool,
    /// `user_deleted` only: meetings of theirs are live for appointments still to come (a
    /// user deleted in WordPress alone: KiviCare keeps their appointments), whose cancellation
    /// or new time must still reach Zoom.
    #[serde(default)]
    pub upcoming: bool,
}

/// What the host does, in this order.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Delete the stored token set (and KiviCare's "connected" flag with it).
    pub forget: bool,
    /// Record this state.
    pub state: State,
    /// Tell the doctor and the administrators, with the way to connect again: the
    /// connection just broke (it was not broken before).
    pub alert: bool,
    /// The doctor's user is being deleted, but their meetings still need the connection
    /// (`owed`, `upcoming`): keep their Zoom data (tokens, own app, Zoom user) past the
    /// deletion, and ask again (`user_deleted`) later. With `forget` instead, revoke the
    /// grant at Zoom first: nobody is left to connect again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keep: bool,
}

pub fn change(input: &ChangeInput) -> Change {
    let (forget, state) = match (input.event, input.stored) {
        (Event::Stored, _) => (false, State::Connected),
        // Kept: the key may come back (a restored wp-config.php), and then so do the tokens.
        (Event::Undecryptable, _) => (false, State::ReconnectRequired),
        (Event::Reauthorize, Stored::Ok) => (true, State::ReconnectRequired),
        (Event::Reauthorize, Stored::Undecryptable) => (false, State::ReconnectRequired),
        // Nothing stored: what was recorded stands (a break is not forgotten by the next
        // call finding no tokens), unless it claims a connection that has lost its tokens.
        (Event::Reauthorize, Stored::None) => match input.before {
            None | Some(State::NotConnected) => (false, State::NotConnected),
            Some(State::Connected) => (false, State::ReconnectRequired),
            Some(s) => (false, s),
        },
        (Event::Disconnect, _) => (true, State::Disconnected),
        (Event::Deauthorized, _) => (true, State::Deauthorized),
        // Nothing to show anyone any more: the state recorded stands until it goes too.
        (Event::UserDeleted, _) => {
            let keep = input.owed || input.upcoming;
            return Change {
                forget: !keep,
                state: input.before.unwrap_or(State::NotConnected),
                alert: false,
                keep,
            };
        }
    };
    let was_broken = input.before.is_some_and(State::broken);
    Change {
        forget,
        state,
        alert: state.broken() && !was_broken,
        keep: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(before: Option<State>, event: Event, stored: Stored) -> Change {
        change(&ChangeInput {
            before,
            event,
            stored,
            owed: false,
            upcoming: false,
        })
    }

    /// Found by a test of KiviCare's doctor delete: a delete Zoom failed at first was
    /// retried after the doctor's user, and their token with it, was gone; the meeting
    /// stayed in their Zoom account for good.
    #[test]
    fn a_deleted_doctors_connection_is_kept_while_their_meetings_need_it() {
        let owed = change(&ChangeInput {
            before: Some(State::Connected),
            event: Event::UserDeleted,
            stored: Stored::Ok,
            owed: true,
            upcoming: false,
        });
        assert_eq!(
            owed,
            Change {
                forget: false,
                state: State::Connected,
                alert: false,
                keep: true
            }
        );
        let done = after(Some(State::Connected), Event::UserDeleted, Stored::Ok);
        assert_eq!((done.forget, done.keep, done.alert), (true, false, false));
        // Deleted in WordPress alone: KiviCare keeps the appointments, whose cancellation
        // must still reach Zoom.
        let upcoming = change(&ChangeInput {
            before: Some(State::Connected),
            event: Event::UserDeleted,
            stored: Stored::Ok,
            owed: false,
            upcoming: true,
        });
        assert_eq!((upcoming.forget, upcoming.keep), (false, true));
    }

    #[test]
    fn a_connection_that_breaks_tells_once() {
        let broke = after(Some(State::Connected), Event::Reauthorize, Stored::Ok);
        assert_eq!(
            broke,
            Change {
                forget: true,
                state: State::ReconnectRequired,
                alert: true,
                keep: false
            }
        );
        let again = after(
            Some(State::ReconnectRequired),
            Event::Reauthorize,
            Stored::None,
        );
        assert!(!again.alert, "already broken: no second mail");
        assert!(
            !after(
                Some(State::ReconnectRequired),
                Event::Deauthorized,
                Stored::None
            )
            .alert
        );
    }

    /// Found moving this from PHP: once the tokens were forgotten, the next call for the
    /// doctor found none and recorded "not connected", so the status screen and Site Health
    /// no longer said they must connect again.
    #[test]
    fn a_broken_connection_stays_broken_when_the_next_call_finds_no_tokens() {
        for broken in [State::ReconnectRequired, State::Deauthorized] {
            let next = after(Some(broken), Event::Reauthorize, Stored::None);
            assert_eq!(
                (next.forget, next.state, next.alert),
                (false, broken, false)
            );
        }
        let chosen = after(Some(State::Disconnected), Event::Reauthorize, Stored::None);
        assert_eq!(chosen.state, State::Disconnected);
        let lost = after(Some(State::Connected), Event::Reauthorize, Stored::None);
        assert_eq!((lost.state, lost.alert), (State::ReconnectRequired, true));
    }

    #[test]
    fn only_a_stored_set_is_forgotten_when_zoom_refuses_it() {
        assert!(!after(None, Event::Reauthorize, Stored::None).forget);
        assert_eq!(
            after(None, Event::Reauthorize, Stored::None).state,
            State::NotConnected
        );
        let unreadable = after(None, Event::Reauthorize, Stored::Undecryptable);
        assert_eq!(
            (unreadable.forget, unreadable.state),
            (false, State::ReconnectRequired)
        );
    }

    #[test]
    fn a_chosen_disconnect_forgets_without_alarm() {
        let d = after(Some(State::Connected), Event::Disconnect, Stored::Ok);
        assert_eq!(
            (d.forget, d.state, d.alert),
            (true, State::Disconnected, false)
        );
        let z = after(Some(State::Connected), Event::Deauthorized, Stored::Ok);
        assert_eq!(
            (z.forget, z.state, z.alert),
            (true, State::Deauthorized, true)
        );
        let back = after(Some(State::Deauthorized), Event::Stored, Stored::Ok);
        assert_eq!(
            (back.forget, back.state, back.alert),
            (false, State::Connected, false)
        );
    }
}
