<?php

namespace KCTApp\admin;

/**
 * The status screen's words for what the data keeps as codes: a meeting's state, the work
 * owed on it, a doctor's connection, a time. Presentation only: the REST answer keeps the
 * codes, and nothing here decides anything. A code this list does not know is shown as it is,
 * so a state added later is never hidden.
 */
final class KCTStatusWords
{
    /**
     * An appointment's start for its patient and doctor: in the appointment's own zone (the
     * doctor's, as KiviCare books it), in the site's date and time formats, the zone named;
     * '' when it has none.
     */
    public static function appointmentTime($utc, ?string $zone): string
    {
        $t = is_string($utc) && $utc !== '' ? strtotime(preg_match('/[zZ]|[+-]\d\d:?\d\d$/', $utc) ? $utc : $utc . ' UTC') : false;
        if ($t === false) {
            return '';
        }
        $tz = $zone !== null && in_array($zone, timezone_identifiers_list(), true) ? new \DateTimeZone($zone) : wp_timezone();
        return (string) wp_date(get_option('date_format') . ' ' . get_option('time_format') . ' T', $t, $tz);
    }

    /** A UTC time as the database (`Y-m-d H:i:s`) or Zoom (RFC 3339) keeps it, in the site's zone, the zone named. */
    public static function siteTime($utc): string
    {
        if ($utc === null || $utc === '') {
            return '—';
        }
        $t = is_int($utc) ? $utc : strtotime(preg_match('/[zZ]|[+-]\d\d:?\d\d$/', (string) $utc) ? (string) $utc : $utc . ' UTC');
        return $t === false ? (string) $utc : (string) wp_date('Y-m-d H:i T', $t);
    }

    /** Who an announcement mail went to, in words. */
    public static function recipient(string $who): string
    {
        $words = ['patient' => __('the patient', 'kivicare-telemed-zoom'), 'doctor' => __('the doctor', 'kivicare-telemed-zoom')];
        return $words[$who] ?? $who;
    }

    /** A visit's outcome (or that the patient waits), in words. */
    public static function outcome(array $visit): string
    {
        $words = [
            'checked_in' => __('Checked in', 'kivicare-telemed-zoom'),
            'checked_out' => __('Checked out', 'kivicare-telemed-zoom'),
            'no_show' => __('No-show', 'kivicare-telemed-zoom'),
            // The visit asked KiviCare for the status and KiviCare refused it: the fix is by hand.
            'checkin_refused' => __('Attended; KiviCare refused the check-in: check the patient in by hand', 'kivicare-telemed-zoom'),
            'checkout_refused' => __('Attended; KiviCare refused the check-out: check the patient out by hand', 'kivicare-telemed-zoom'),
        ];
        $outcome = (string) ($visit['outcome'] ?? '');
        if ($outcome !== '') {
            return $words[$outcome] ?? $outcome;
        }
        return !empty($visit['waiting_since']) ? __('Waiting', 'kivicare-telemed-zoom') : '—';
    }

    /** A length of time, in whole minutes. */
    public static function minutes(int $seconds): string
    {
        /* translators: %d: minutes */
        return sprintf(_n('%d minute', '%d minutes', intdiv($seconds, 60), 'kivicare-telemed-zoom'), intdiv($seconds, 60));
    }

    public static function meeting(string $status): string
    {
        $words = [
            'pending' => __('being made', 'kivicare-telemed-zoom'),
            'active' => __('ready', 'kivicare-telemed-zoom'),
            'failed' => __('failed', 'kivicare-telemed-zoom'),
            'cancelled' => __('cancelled', 'kivicare-telemed-zoom'),
            'deleted' => __('deleted', 'kivicare-telemed-zoom'),
        ];
        return $words[$status] ?? $status;
    }

    public static function work(string $intent): string
    {
        $words = [
            'ensure' => __('make the meeting', 'kivicare-telemed-zoom'),
            'regenerate' => __('make a new meeting', 'kivicare-telemed-zoom'),
            'reschedule' => __('move the meeting', 'kivicare-telemed-zoom'),
            'cancel' => __('cancel the meeting', 'kivicare-telemed-zoom'),
            'delete' => __('delete the meeting', 'kivicare-telemed-zoom'),
            'verify' => __('check the meeting at Zoom', 'kivicare-telemed-zoom'),
            // Recorded while the runtime was unavailable; the core reads the status when it runs.
            'status_changed' => __('act on the appointment\'s new status', 'kivicare-telemed-zoom'),
        ];
        return $words[$intent] ?? $intent;
    }

    public static function connection(string $state): string
    {
        $words = [
            'connected' => __('connected', 'kivicare-telemed-zoom'),
            'not_connected' => __('not connected', 'kivicare-telemed-zoom'),
            'reconnect_required' => __('must connect again', 'kivicare-telemed-zoom'),
            'disconnected' => __('disconnected', 'kivicare-telemed-zoom'),
            'deauthorized' => __('removed the app in Zoom', 'kivicare-telemed-zoom'),
            'server_to_server' => __('the clinic\'s Server-to-Server app', 'kivicare-telemed-zoom'),
        ];
        return $words[$state] ?? $state;
    }

    /**
     * Why the doctor's Zoom connection did not complete, from the code the OAuth callback sends
     * the browser back with, and what to do about it.
     */
    public static function connectFailure(string $code): string
    {
        $again = __('Select Connect Zoom to start again.', 'kivicare-telemed-zoom');
        $words = [
            'kct_state_expired' => __('The authorization at Zoom took too long.', 'kivicare-telemed-zoom') . ' ' . $again,
            'kct_state_replayed' => __('This authorization was already used.', 'kivicare-telemed-zoom') . ' ' . $again,
            'kct_state_invalid' => __('The answer from Zoom was not one this site asked for.', 'kivicare-telemed-zoom') . ' ' . $again,
            'kct_state_browser_mismatch' => __('The authorization was finished in another browser than the one that started it.', 'kivicare-telemed-zoom') . ' ' . __('Select Connect Zoom again in this browser.', 'kivicare-telemed-zoom'),
            'kct_state_login_required' => __('You were logged out while Zoom asked for your consent.', 'kivicare-telemed-zoom') . ' ' . $again,
            'kct_state_user_mismatch' => __('The authorization was started by another WordPress user.', 'kivicare-telemed-zoom') . ' ' . __('Log in as yourself and select Connect Zoom again.', 'kivicare-telemed-zoom'),
            'kct_oauth_not_configured' => __('The clinic has not set up a Zoom OAuth app.', 'kivicare-telemed-zoom') . ' ' . __('Ask an administrator to set it up in Settings → Zoom telemedicine.', 'kivicare-telemed-zoom'),
            'kct_not_a_doctor' => __('Only doctors connect a Zoom account.', 'kivicare-telemed-zoom'),
        ];
        return $words[$code] ?? sprintf(
            /* translators: %s: the error code */
            __('Zoom could not be connected (%s). Select Connect Zoom to try again; if it fails again, an administrator finds the cause under Tools → Site Health.', 'kivicare-telemed-zoom'),
            $code
        );
    }

    /** A webhook delivery's event as the deliveries table keeps it. */
    public static function event(string $event): string
    {
        $words = [
            'meeting_started' => __('meeting started', 'kivicare-telemed-zoom'),
            'meeting_ended' => __('meeting ended', 'kivicare-telemed-zoom'),
            'meeting_updated' => __('meeting changed in Zoom', 'kivicare-telemed-zoom'),
            'meeting_deleted' => __('meeting deleted in Zoom', 'kivicare-telemed-zoom'),
            'participant_joined' => __('someone joined', 'kivicare-telemed-zoom'),
            'participant_left' => __('someone left', 'kivicare-telemed-zoom'),
            'participant_waiting' => __('someone is waiting', 'kivicare-telemed-zoom'),
            'participant_admitted' => __('someone was let in', 'kivicare-telemed-zoom'),
            'deauthorize' => __('a doctor removed the app in Zoom', 'kivicare-telemed-zoom'),
        ];
        return $words[$event] ?? $event;
    }

    /** @param array|null $last what KCTReconcile::run() stored (the status screen and Site Health say it alike) */
    public static function reconcile($last): string
    {
        if (!is_array($last)) {
            return __('Not run yet (it runs daily).', 'kivicare-telemed-zoom');
        }
        return sprintf(
            /* translators: 1: when it ran, 2 to 6: counts of meetings */
            __('Ran %1$s. Meetings checked: %2$d; made again: %3$d; moved back: %4$d; left without an appointment and deleted: %5$d; failed: %6$d.', 'kivicare-telemed-zoom'),
            self::siteTime(isset($last['at']) ? (int) $last['at'] : null),
            (int) ($last['verified'] ?? 0),
            (int) ($last['recreated'] ?? 0),
            (int) ($last['moved'] ?? 0),
            (int) ($last['orphans_deleted'] ?? 0),
            (int) ($last['failed'] ?? 0)
        );
    }
}
