<?php
namespace KCTApp\telemed;

use KCTApp\meetings\KCTStartLink;
use KCTApp\models\KCTMappingRepository;
use KCTApp\zoom\KCTConnect;

/**
 * Who sees which link (CONTRACT §3, §8.10): the patient the join link, the doctor a link
 * that fetches a fresh start link on click (Zoom's start links expire and carry the host's
 * credential, so none is ever put in a list, a calendar or an email).
 */
final class KCTAppointmentLinks
{
    const START_ACTION = 'kct_zoom_start';

    public static function register(): void
    {
        add_filter('kc_appointment_list_item', [self::class, 'listItem'], 10, 2);
        add_filter('kc_appointment_data', [self::class, 'listItem'], 10, 2);
        add_filter('kc_appointment_details_data', [self::class, 'listItem'], 10, 2);
        add_filter('kivicare_custom_email_key_value', [self::class, 'emailValue'], 10, 3);
        add_filter('kivicare_template_dynamic_keys', [self::class, 'emailKeys']);
        add_action('admin_post_' . self::START_ACTION, [self::class, 'redirectToStart']);
        add_filter('kivicare_route_args___/appointments/(?P<id>\\d+)/regenerate-video-conference', [self::class, 'regenerateArgs']);
    }

    /** The doctor's click-to-start link (login required; the start link is fetched then). */
    public static function hostLink(int $appointmentId): string
    {
        return admin_url('admin-post.php?action=' . self::START_ACTION . '&appointment_id=' . $appointmentId);
    }

    private static function appointmentId($row, $appt): int
    {
        if (is_array($row) && isset($row['id'])) {
            return (int) $row['id'];
        }
        if (is_object($appt) && isset($appt->id)) {
            return (int) $appt->id;
        }
        return is_numeric($appt) ? (int) $appt : 0;
    }

    /** Adds `video_url` and `zoom_data` for the current user's role in the appointment. */
    public static function listItem($row, $appt = null)
    {
        $id = self::appointmentId($row, $appt);
        $m = $id ? KCTMappingRepository::find($id) : null;
        if (!is_array($row) || !KCTMappingRepository::isLive($m)) {
            return $row;
        }
        $me = get_current_user_id();
        if ($me && $me === (int) $m['patient_id']) {
            $row['video_url'] = $m['join_url'];
            $row['zoom_data'] = ['joinUrl' => $m['join_url']];
        } elseif ($me && ($me === (int) $m['doctor_id'] || current_user_can('manage_options'))) {
            $row['video_url'] = $me === (int) $m['doctor_id'] ? self::hostLink($id) : $m['join_url'];
            $row['zoom_data'] = ['joinUrl' => $m['join_url'], 'startUrl' => $me === (int) $m['doctor_id'] ? self::hostLink($id) : ''];
        }
        return $row;
    }

    /** `{{zoom_host_link}}` for the doctor's email; unknown keys pass through. */
    public static function emailValue($value, $key, $data)
    {
        if ($key !== 'zoom_host_link') {
            return $value;
        }
        $id = (int) ($data['appointment_id'] ?? $data['id'] ?? 0);
        return $id && KCTMappingRepository::find($id) !== null ? self::hostLink($id) : '';
    }

    public static function emailKeys($keys)
    {
        if (is_array($keys) && isset($keys['kiviCare_add_doctor_zoom_link']) && is_array($keys['kiviCare_add_doctor_zoom_link'])) {
            $keys['kiviCare_add_doctor_zoom_link'][] = '{{zoom_host_link}}';
        }
        return $keys;
    }

    /** The fresh start link for the appointment's own doctor, or why not. */
    public static function startUrlFor(int $appointmentId, int $userId)
    {
        $m = KCTMappingRepository::find($appointmentId);
        if ($m === null || $userId === 0 || (int) $m['doctor_id'] !== $userId) {
            return new \WP_Error('kct_forbidden', __('Only the appointment\'s doctor can start this meeting.', 'kivicare-telemed-zoom'), ['status' => 403]);
        }
        return KCTStartLink::get($appointmentId);
    }

    public static function redirectToStart(): void
    {
        $url = self::startUrlFor((int) ($_GET['appointment_id'] ?? 0), get_current_user_id());
        if (is_wp_error($url)) {
            wp_die(esc_html($url->get_error_message()), '', ['response' => (int) ($url->get_error_data()['status'] ?? 400)]);
        }
        // Zoom's host: not on this site, so not wp_safe_redirect.
        wp_redirect($url);
        exit;
    }

    /**
     * KiviCare's regenerate route lets any doctor, clinic admin or receptionist through
     * (§8.9): administrators and the appointment's own doctor only.
     */
    public static function regenerateArgs($args)
    {
        $args = is_array($args) ? $args : [];
        $args['permission_callback'] = static function ($request) {
            if (current_user_can('manage_options')) {
                return true;
            }
            $id = (int) ($request['id'] ?? 0);
            $m = $id ? KCTMappingRepository::find($id) : null;
            $doctor = $m['doctor_id'] ?? null;
            if ($doctor === null && class_exists('App\\models\\KCAppointment')) {
                $a = \App\models\KCAppointment::find($id);
                $doctor = $a->doctorId ?? null;
            }
            return $doctor !== null && (int) $doctor === get_current_user_id() && KCTConnect::isDoctor(get_current_user_id());
        };
        return $args;
    }
}
