<?php

namespace KCTApp\telemed;

use KCTApp\admin\KCTStatusWords;
use KCTApp\meetings\KCTMappingRepository;

/**
 * `[kct_zoom_consultations]`, for a page of the clinic's site: the logged-in person's video
 * consultations until they end, a patient's with their join link (their own when they were
 * registered), a doctor's with the click-to-start link. A patient who lost the mail finds
 * the link there; KiviCare's own lists show it only once the patient is checked in. Only
 * the visitor's own consultations are listed, and never a start link.
 */
final class KCTConsultationsShortcode
{
    public const TAG = 'kct_zoom_consultations';

    public static function register(): void
    {
        add_shortcode(self::TAG, [self::class, 'render']);
    }

    /** @param array|string $atts `limit` (1 to 50, default 10) */
    public static function render($atts = []): string
    {
        $atts = shortcode_atts(['limit' => 10], is_array($atts) ? $atts : [], self::TAG);
        $me = get_current_user_id();
        if ($me === 0) {
            return sprintf(
                '<p class="kct-zoom-consultations">%s</p>',
                sprintf(
                    /* translators: %s: the login link */
                    esc_html__('%s to see your video consultations.', 'kivicare-telemed-zoom'),
                    sprintf('<a href="%s">%s</a>', esc_url(wp_login_url((string) get_permalink())), esc_html__('Log in', 'kivicare-telemed-zoom'))
                )
            );
        }
        $limit = max(1, min(50, (int) $atts['limit']));
        $now = time();
        $rows = [];
        foreach (KCTMappingRepository::upcoming($now, $limit, null, $me) as $r) {
            $doctor = get_userdata((int) $r['doctor_id']);
            $rows[(string) $r['start_time'] . '/' . $r['appointment_id']] = [$r, $doctor ? $doctor->display_name : '', KCTMappingRepository::isLive($r)
                ? [(string) KCTMappingRepository::patientJoinUrl($r), __('Join', 'kivicare-telemed-zoom'),
                    /* translators: 1: the doctor's name, 2: the appointment's date and time */
                    __('Join the video consultation with %1$s on %2$s', 'kivicare-telemed-zoom')] : null];
        }
        if (\KCTApp\connection\KCTConnect::isDoctor($me)) {
            foreach (KCTMappingRepository::upcoming($now, $limit, $me) as $r) {
                $patient = get_userdata((int) $r['patient_id']);
                $rows[(string) $r['start_time'] . '/' . $r['appointment_id']] = [$r, $patient ? $patient->display_name : '', KCTMappingRepository::isLive($r)
                    ? [KCTAppointmentLinks::hostLink((int) $r['appointment_id']), __('Start', 'kivicare-telemed-zoom'),
                        /* translators: 1: the patient's name, 2: the appointment's date and time */
                        __('Start the video consultation with %1$s on %2$s', 'kivicare-telemed-zoom')] : null];
            }
        }
        ksort($rows);
        $rows = array_slice($rows, 0, $limit);
        if ($rows === []) {
            return '<p class="kct-zoom-consultations">' . esc_html__('You have no video consultations to come.', 'kivicare-telemed-zoom') . '</p>';
        }
        $html = '<table class="kct-zoom-consultations"><thead><tr><th>' . esc_html__('When', 'kivicare-telemed-zoom') . '</th><th>'
            . esc_html__('With', 'kivicare-telemed-zoom') . '</th><th>' . esc_html__('Meeting', 'kivicare-telemed-zoom') . '</th><th></th></tr></thead><tbody>';
        foreach ($rows as [$r, $with, $link]) {
            $when = KCTStatusWords::appointmentTime($r['start_time'], $r['timezone']);
            // Read alone by a screen reader, "Join" says nothing of which consultation.
            $label = $link === null ? '' : sprintf($link[2], $with ?: '—', $when);
            $html .= '<tr><td>' . esc_html($when ?: '—') . '</td><td>' . esc_html($with ?: '—')
                . '</td><td>' . esc_html(KCTStatusWords::meeting((string) $r['status'])) . '</td><td>'
                . ($link !== null && $link[0] !== '' ? sprintf('<a class="button" href="%s" rel="noopener" aria-label="%s">%s</a>', esc_url($link[0]), esc_attr($label), esc_html($link[1])) : '')
                . '</td></tr>';
        }
        return $html . '</tbody></table>';
    }
}
