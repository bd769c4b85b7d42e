<?php

namespace KCTApp\telemed;

use KCTApp\meetings\KCTAppointments;
use KCTApp\meetings\KCTStartLink;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\connection\KCTConnect;

/**
 * Who sees which link (CONTRACT §3, §8.10): the patient the join link, the doctor a link
 * that fetches a fresh start link on click (Zoom's start links expire and carry the host's
 * credential, so none is ever put in a list, a calendar or an email).
 */
final class KCTAppointmentLinks
{
    public const START_ACTION = 'kct_zoom_start';

    public static function register(): void
    {
        add_filter('kc_appointment_list_item', [self::class, 'listItem'], 10, 2);
        add_filter('kc_appointment_data', [self::class, 'listItem'], 10, 2);
        add_filter('kc_appointment_details_data', [self::class, 'listItem'], 10, 2);
        add_filter('kivicare_custom_email_key_value', [self::class, 'emailValue'], 10, 3);
        add_filter('kivicare_template_dynamic_keys', [self::class, 'emailKeys']);
        add_filter('kivicare_process_email_template', [self::class, 'doctorMail'], 10, 2);
        add_filter('wp_mail', [self::class, 'recipientMail']);
        add_action('admin_post_' . self::START_ACTION, [self::class, 'start']);
        // A logged-out doctor following the mailed link logs in first, then lands here again.
        add_action('admin_post_nopriv_' . self::START_ACTION, 'auth_redirect');
        add_filter('kivicare_route_args___/appointments/(?P<id>\\d+)/regenerate-video-conference', [self::class, 'regenerateArgs']);
        KCTConsultationsShortcode::register();
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

    /**
     * Adds `video_url` and `zoom_data` for the current user's role in the appointment: the
     * patient their join link, the doctor the click-to-start link, administrators and the
     * staff of the appointment's clinic the meeting's link. KiviCare shows every non-patient
     * without a `video_url` its regenerate button, which for staff replaced the live meeting
     * (the patient's link with it) while the patient waited.
     */
    public static function listItem($row, $appt = null)
    {
        $id = self::appointmentId($row, $appt);
        $m = $id ? KCTMappingRepository::find($id) : null;
        if (!is_array($row) || !KCTMappingRepository::isLive($m)) {
            return $row;
        }
        $me = get_current_user_id();
        if ($me && $me === (int) $m['patient_id']) {
            $row['video_url'] = KCTMappingRepository::patientJoinUrl($m);
            $row['zoom_data'] = ['joinUrl' => KCTMappingRepository::patientJoinUrl($m)];
        } elseif ($me && ($me === (int) $m['doctor_id'] || current_user_can('manage_options') || KCTAppointments::isClinicStaff($id, $me))) {
            $row['video_url'] = $me === (int) $m['doctor_id'] ? self::hostLink($id) : $m['join_url'];
            $row['zoom_data'] = ['joinUrl' => $m['join_url'], 'startUrl' => $me === (int) $m['doctor_id'] ? self::hostLink($id) : ''];
        }
        return $row;
    }

    /** The appointment a template's data is about: KiviCare 4.3.0 nests it (CONTRACT §9). */
    private static function mailAppointment($data): int
    {
        if (!is_array($data)) {
            return 0;
        }
        return (int) ($data['appointment']['id'] ?? $data['appointment_id'] ?? $data['id'] ?? 0);
    }

    /** `{{zoom_host_link}}` for the doctor's email; unknown keys pass through. */
    public static function emailValue($value, $key, $data)
    {
        if (trim((string) $key, '{} ') !== 'zoom_host_link') {
            return $value;
        }
        $id = self::mailAppointment($data);
        return $id && KCTMappingRepository::isLive(KCTMappingRepository::find($id)) ? self::hostLink($id) : '';
    }

    /** Lists `{{zoom_host_link}}` in the doctor's template editor (4.3.0's keys are lower case). */
    public static function emailKeys($keys)
    {
        foreach (['kivicare_add_doctor_zoom_link', 'kiviCare_add_doctor_zoom_link'] as $template) {
            if (is_array($keys) && isset($keys[$template]) && is_array($keys[$template]) && !in_array('{{zoom_host_link}}', $keys[$template], true)) {
                $keys[$template][] = '{{zoom_host_link}}';
            }
        }
        return $keys;
    }

    /**
     * KiviCare fills the doctor's link mail with the patient's join link (CONTRACT §6, §8.10);
     * a doctor who joins by it is not the host. In the doctor's mail, that link becomes the
     * click-to-start link (which fetches a fresh start link after login).
     */
    public static function doctorMail($html, $data)
    {
        $join = is_array($data) ? (string) ($data['add_doctor_zoom_link'] ?? '') : '';
        $id = self::mailAppointment($data);
        if (!is_string($html) || $join === '' || !$id) {
            return $html;
        }
        $row = KCTMappingRepository::find($id);
        if (!KCTMappingRepository::isLive($row) || !in_array($join, [$row['join_url'], KCTMappingRepository::patientJoinUrl($row)], true)) {
            return $html;
        }
        $host = self::hostLink($id);
        // The mail is HTML: every form of the join link becomes the escaped host link.
        return str_replace(array_unique([esc_url($join), esc_html($join), $join]), esc_url($host), $html);
    }

    /**
     * KiviCare mails the meeting's own join link, the mapping's `joinUrl`, to whoever its
     * booking mail or a reminder goes to (CONTRACT §6), and its templates cannot tell the
     * recipient. In a mail to one person alone, the link becomes theirs: a patient the addon
     * registered on the meeting gets their own link (they are not asked to register again,
     * and Zoom's events name them for certain), and the meeting's doctor the click-to-start
     * link (by the join link they would join their own meeting as a guest, held in its
     * waiting room). A mail to several people keeps the meeting's link.
     *
     * @param array $atts wp_mail's to, subject, message, headers, attachments
     */
    public static function recipientMail($atts)
    {
        $message = is_array($atts) ? ($atts['message'] ?? null) : null;
        $to = is_array($atts) ? ($atts['to'] ?? '') : '';
        $to = is_array($to) ? $to : explode(',', (string) $to);
        if (!is_string($message) || $message === '' || count($to) !== 1) {
            return $atts;
        }
        $to = trim((string) reset($to));
        $to = preg_match('/<([^>]+)>/', $to, $named) ? trim($named[1]) : $to;
        // The rows say which links are this recipient's own: no Zoom link format is read here.
        foreach (KCTMappingRepository::registeredTo($to) as $row) {
            $join = (string) $row['join_url'];
            $own = (string) $row['patient_join_url'];
            if ($join === '' || !KCTMappingRepository::isLive($row)) {
                continue;
            }
            // Each form the link may take in the mail (plain, or escaped in HTML) becomes the same form of theirs.
            // (A form equal to the plain one maps to the plain one: it comes last.)
            $message = strtr($message, [esc_html($join) => esc_html($own), esc_url($join) => esc_url($own), $join => $own]);
        }
        $doctor = get_user_by('email', $to);
        if ($doctor !== false && KCTConnect::isDoctor((int) $doctor->ID)) {
            // The host link has an `&`: escaped wherever the mail is HTML.
            $html = $message !== wp_strip_all_tags($message);
            // Mails about appointments to come (a reminder, a link): not the doctor's whole history.
            foreach (KCTMappingRepository::liveOfDoctor((int) $doctor->ID, time() - DAY_IN_SECONDS) as $row) {
                $host = self::hostLink((int) $row['appointment_id']);
                // The meeting's link, and the registered patient's own (by which the doctor would join as the patient).
                foreach (array_filter([(string) $row['join_url'], (string) $row['patient_join_url']]) as $join) {
                    $message = strtr($message, [esc_html($join) => esc_url($host), esc_url($join) => esc_url($host), $join => $html ? esc_url($host) : $host]);
                }
            }
        }
        $atts['message'] = $message;
        return $atts;
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

    /**
     * The doctor's start action. A GET (the link in the mail, the list's button) shows a page
     * with a Start button; only that button's POST, carrying a nonce for this user and
     * appointment, fetches the host link and sends the browser to Zoom. A third-party page can
     * link here but cannot start the meeting (found by the abuse review: a cross-site GET used
     * to redirect straight to the host's start URL).
     *
     * @return array{status: int, redirect?: string, html?: string}
     */
    public static function startResponse(string $method, array $request, int $userId): array
    {
        $id = (int) ($request['appointment_id'] ?? 0);
        $m = $id ? KCTMappingRepository::find($id) : null;
        if ($m === null || $userId === 0 || (int) $m['doctor_id'] !== $userId) {
            return ['status' => 403, 'html' => esc_html__('Only the appointment\'s doctor can start this meeting.', 'kivicare-telemed-zoom')];
        }
        if ($method === 'POST') {
            if (!wp_verify_nonce((string) ($request['_wpnonce'] ?? ''), self::START_ACTION . '_' . $id)) {
                return ['status' => 403, 'html' => esc_html__('This page has expired. Open the start link again.', 'kivicare-telemed-zoom')];
            }
            $url = self::startUrlFor($id, $userId);
            if (is_wp_error($url)) {
                return ['status' => (int) ($url->get_error_data()['status'] ?? 400), 'html' => esc_html($url->get_error_message())];
            }
            return ['status' => 302, 'redirect' => $url];
        }
        if (!KCTMappingRepository::isLive($m)) {
            // No button that can only fail: say why, and what happens next.
            return ['status' => 404, 'html' => esc_html(sprintf(
                /* translators: %s: the meeting's state (being made, failed, cancelled, deleted) */
                __('This appointment has no Zoom meeting to start: its meeting is %s. A meeting being made is mailed to you once it exists; a failed one can be retried by an administrator on the Zoom telemedicine status screen.', 'kivicare-telemed-zoom'),
                \KCTApp\admin\KCTStatusWords::meeting((string) $m['status'])
            ))];
        }
        $patient = get_userdata((int) $m['patient_id']);
        $when = \KCTApp\admin\KCTStatusWords::appointmentTime($m['start_time'] ?? null, $m['timezone'] ?? null);
        $about = $patient && $when !== ''
            /* translators: 1: the patient's name, 2: the appointment's date and time, 3: appointment number */
            ? sprintf(__('Video consultation with %1$s on %2$s (appointment #%3$d).', 'kivicare-telemed-zoom'), $patient->display_name, $when, $id)
            /* translators: %d: appointment number */
            : sprintf(__('Video consultation for appointment #%d.', 'kivicare-telemed-zoom'), $id);
        $form = '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">'
            . '<input type="hidden" name="action" value="' . esc_attr(self::START_ACTION) . '">'
            . '<input type="hidden" name="appointment_id" value="' . esc_attr((string) $id) . '">'
            . wp_nonce_field(self::START_ACTION . '_' . $id, '_wpnonce', false, false)
            . '<p>' . esc_html($about) . '</p>'
            . '<p><button type="submit" class="button button-primary">' . esc_html__('Start the Zoom meeting', 'kivicare-telemed-zoom') . '</button></p>'
            . '</form>';
        return ['status' => 200, 'html' => $form];
    }

    /** admin-post handler: performs startResponse. */
    public static function start(): void
    {
        $method = strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? 'GET'));
        $r = self::startResponse($method, wp_unslash($method === 'POST' ? $_POST : $_GET), get_current_user_id());
        if (isset($r['redirect'])) {
            // Zoom's host: not on this site, so not wp_safe_redirect.
            wp_redirect($r['redirect']);
            exit;
        }
        nocache_headers();
        wp_die($r['html'], esc_html__('Start the Zoom meeting', 'kivicare-telemed-zoom'), ['response' => $r['status']]);
    }

    /**
     * KiviCare's regenerate route lets any doctor, clinic admin or receptionist through
     * (§8.9). Its intent (§7, §9): administrators, the appointment's own doctor, and the
     * clinic admins and receptionists of the appointment's clinic; never patients.
     */
    public static function regenerateArgs($args)
    {
        $args = is_array($args) ? $args : [];
        $args['permission_callback'] = static function ($request) {
            return self::mayRegenerate((int) ($request['id'] ?? 0), get_current_user_id());
        };
        return $args;
    }

    public static function mayRegenerate(int $id, int $userId): bool
    {
        if ($userId <= 0 || $id <= 0) {
            return false;
        }
        if (user_can($userId, 'manage_options')) {
            return true;
        }
        $now = KCTAppointments::now($id);
        $m = KCTMappingRepository::find($id);
        $doctor = $now['doctor_id'] ?? ($m['doctor_id'] ?? null);
        if ($doctor === null && class_exists('App\\models\\KCAppointment')) {
            $a = \App\models\KCAppointment::find($id);
            $doctor = $a->doctorId ?? null;
        }
        if ($doctor !== null && (int) $doctor === $userId && KCTConnect::isDoctor($userId)) {
            return true;
        }
        return KCTAppointments::isClinicStaff($id, $userId);
    }
}
