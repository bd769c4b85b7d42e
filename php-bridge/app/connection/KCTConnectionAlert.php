<?php

namespace KCTApp\connection;

/**
 * A doctor's Zoom connection broke (Zoom refused the refresh token, the app was removed in
 * Zoom, or the stored token no longer decrypts): until they connect again, their
 * telemedicine appointments get no meeting. The doctor and the administrators hear it once,
 * with the link to reconnect; the doctor's Zoom page shows it too.
 */
final class KCTConnectionAlert
{
    /** @return string[] the addresses told */
    public static function send(int $doctorId, string $state): array
    {
        $doctor = get_userdata($doctorId);
        if (!$doctor) {
            return [];
        }
        $site = wp_specialchars_decode(get_bloginfo('name'), ENT_QUOTES);
        $link = admin_url('admin.php?page=kct-zoom-doctor');
        $why = $state === 'deauthorized'
            ? __('The clinic\'s Zoom app was removed from the Zoom account.', 'kivicare-telemed-zoom')
            : __('Zoom no longer accepts the saved connection.', 'kivicare-telemed-zoom');
        $sent = [];
        /* translators: %s: the clinic's site name */
        $subject = sprintf(__('[%s] Zoom must be connected again', 'kivicare-telemed-zoom'), $site);
        /* translators: 1: why, 2: the reconnect link */
        $body = sprintf(__("%1\$s Until Zoom is connected again, your telemedicine appointments get no meeting.\n\nConnect Zoom again: %2\$s\n", 'kivicare-telemed-zoom'), $why, $link);
        if ($doctor->user_email && wp_mail($doctor->user_email, $subject, $body)) {
            $sent[] = $doctor->user_email;
        }
        /* translators: 1: the doctor's name, 2: why, 3: the link */
        $adminBody = sprintf(__("%1\$s must connect Zoom again. %2\$s Until then their telemedicine appointments get no meeting.\n\nThey reconnect on their Zoom page: %3\$s\n", 'kivicare-telemed-zoom'), $doctor->display_name, $why, $link);
        foreach (get_users(['role' => 'administrator', 'fields' => ['user_email']]) as $admin) {
            if ($admin->user_email && $admin->user_email !== $doctor->user_email && wp_mail($admin->user_email, $subject, $adminBody)) {
                $sent[] = $admin->user_email;
            }
        }
        /**
         * Fires when a doctor's Zoom connection broke and they were told.
         *
         * @since 4.1.0
         * @param int      $doctor_id
         * @param string   $state reconnect_required | deauthorized
         * @param string[] $sent  who was mailed
         */
        do_action('kct_zoom_connection_broken', $doctorId, $state, $sent);
        return $sent;
    }
}
