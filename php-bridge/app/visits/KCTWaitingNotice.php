<?php

namespace KCTApp\visits;

use KCTApp\telemed\KCTAppointmentLinks;

/**
 * "Your patient is waiting": a notice with the Start button on the doctor's admin screens
 * while a patient waits (read from the visit records, so every web server shows the same),
 * and a mail when the doctor asked for one. The notice goes once the wait is over.
 */
final class KCTWaitingNotice
{
    public static function register(): void
    {
        add_action('admin_notices', [self::class, 'render']);
    }

    public static function render(): void
    {
        $doctor = get_current_user_id();
        if ($doctor <= 0 || !\KCTApp\connection\KCTConnect::isDoctor($doctor)) {
            return;
        }
        foreach (KCTVisits::waitingFor($doctor) as $w) {
            $id = (int) $w['appointment_id'];
            printf(
                '<div class="notice notice-warning kct-patient-waiting"><p><strong>%s</strong> %s <a class="button button-primary" href="%s">%s</a></p></div>',
                esc_html__('Your patient is waiting.', 'kivicare-telemed-zoom'),
                esc_html(sprintf(
                    /* translators: 1: appointment number, 2: how long the patient has waited */
                    __('Appointment #%1$d, waiting for %2$s.', 'kivicare-telemed-zoom'),
                    $id,
                    human_time_diff((int) $w['waiting_since'], time())
                )),
                esc_url(KCTAppointmentLinks::hostLink($id)),
                esc_html__('Start the meeting', 'kivicare-telemed-zoom')
            );
        }
    }

    public static function mail(int $doctorId, int $appointmentId, int $since): void
    {
        $doctor = get_userdata($doctorId);
        if (!$doctor || $doctor->user_email === '') {
            return;
        }
        $subject = sprintf(
            /* translators: %d: appointment number */
            __('Your patient is waiting (appointment #%d)', 'kivicare-telemed-zoom'),
            $appointmentId
        );
        $body = sprintf(
            /* translators: 1: when the patient started waiting, in the site's time zone (zone named), 2: the link that starts the meeting */
            __("Your patient has been waiting since %1\$s.\n\nStart the meeting: %2\$s\n", 'kivicare-telemed-zoom'),
            \KCTApp\admin\KCTStatusWords::siteTime($since),
            KCTAppointmentLinks::hostLink($appointmentId)
        );
        wp_mail($doctor->user_email, $subject, $body);
    }
}
