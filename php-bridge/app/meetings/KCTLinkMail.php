<?php

namespace KCTApp\meetings;

use KCTApp\meetings\KCTMappingRepository;
use KCTApp\telemed\KCTAppointmentLinks;

/**
 * Sends an appointment's links when its meeting was made where KiviCare sends no mail (a
 * retry, a later confirmation, a regenerate, a new patient): the patient's join link and
 * the doctor's click-to-start link. With KiviCare's own templates when KiviCare is there
 * (CONTRACT §6), else a plain mail.
 */
final class KCTLinkMail
{
    /** @return string[] who was sent a link: 'patient', 'doctor' */
    public static function send(int $appointmentId, array $row): array
    {
        $join = (string) KCTMappingRepository::patientJoinUrl($row);
        $host = KCTAppointmentLinks::hostLink($appointmentId);
        $sent = [];
        if (class_exists('App\\emails\\KCEmailSender') && class_exists('App\\emails\\listeners\\KCAppointmentNotificationListener')) {
            $data = \App\emails\listeners\KCAppointmentNotificationListener::get_instance()->getAppointmentDataForEmail($appointmentId);
            if (is_array($data)) {
                $sender = \App\emails\KCEmailSender::get_instance();
                if ($sender->sendVideoConferenceLink('zoom', $data, $join, 'patient')) {
                    $sent[] = 'patient';
                }
                if ($sender->sendVideoConferenceLink('zoom', $data, $host, 'doctor')) {
                    $sent[] = 'doctor';
                }
            }
        } else {
            $sent = self::plain($appointmentId, $row, $join, $host);
        }
        /**
         * Fires after an appointment's links were sent by the addon (not by KiviCare).
         *
         * @since 4.1.0
         * @param int      $appointment_id
         * @param string[] $sent who got a link: 'patient', 'doctor'
         */
        do_action('kct_zoom_links_announced', $appointmentId, $sent);
        return $sent;
    }

    private static function plain(int $appointmentId, array $row, string $join, string $host): array
    {
        $sent = [];
        $site = wp_specialchars_decode(get_bloginfo('name'), ENT_QUOTES);
        $patient = get_userdata((int) ($row['patient_id'] ?? 0));
        $doctor = get_userdata((int) ($row['doctor_id'] ?? 0));
        // When, and with whom: a link alone left the patient to guess which appointment.
        $when = \KCTApp\admin\KCTStatusWords::appointmentTime($row['start_time'] ?? null, $row['timezone'] ?? null);
        if ($patient && $patient->user_email && $join !== '') {
            /* translators: %s: the clinic's site name */
            $subject = sprintf(__('[%s] Your video consultation link', 'kivicare-telemed-zoom'), $site);
            $body = $when !== '' && $doctor
                /* translators: 1: the doctor's name, 2: the appointment's date and time, 3: the Zoom join link */
                ? sprintf(__("Your video consultation with %1\$s is on %2\$s.\n\nJoin it here: %3\$s\n", 'kivicare-telemed-zoom'), $doctor->display_name, $when, $join)
                /* translators: %s: the Zoom join link */
                : sprintf(__("Your telemedicine appointment has a Zoom meeting.\n\nJoin it here: %s\n", 'kivicare-telemed-zoom'), $join);
            if (wp_mail($patient->user_email, $subject, $body)) {
                $sent[] = 'patient';
            }
        }
        if ($doctor && $doctor->user_email) {
            /* translators: %s: the clinic's site name */
            $subject = sprintf(__('[%s] Start link for a video consultation', 'kivicare-telemed-zoom'), $site);
            $body = $when !== '' && $patient
                /* translators: 1: appointment number, 2: the patient's name, 3: the appointment's date and time, 4: the click-to-start link */
                ? sprintf(__("Appointment #%1\$d with %2\$s on %3\$s has a Zoom meeting.\n\nStart it here (log in first): %4\$s\n", 'kivicare-telemed-zoom'), $appointmentId, $patient->display_name, $when, $host)
                /* translators: 1: appointment number, 2: the click-to-start link */
                : sprintf(__("Appointment #%1\$d has a Zoom meeting.\n\nStart it here (log in first): %2\$s\n", 'kivicare-telemed-zoom'), $appointmentId, $host);
            if (wp_mail($doctor->user_email, $subject, $body)) {
                $sent[] = 'doctor';
            }
        }
        return $sent;
    }
}
