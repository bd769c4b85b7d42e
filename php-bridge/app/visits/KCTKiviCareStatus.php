<?php

namespace KCTApp\visits;

/**
 * Sets an appointment's status through KiviCare's own status update (`PUT
 * kivicare/v1/appointments/{id}/status`, CONTRACT §9), so KiviCare does what it does on a
 * check-in or check-out (its encounter and bill, its hooks and mails). Zoom's webhook comes
 * with no WordPress user: the update runs as the appointment's doctor, whom KiviCare lets
 * change their appointments' status.
 */
final class KCTKiviCareStatus
{
    /** @return bool whether KiviCare took the new status */
    public static function set(int $appointmentId, int $status, int $doctorId): bool
    {
        if ($doctorId <= 0) {
            return false;
        }
        $previous = get_current_user_id();
        wp_set_current_user($doctorId);
        try {
            $request = new \WP_REST_Request('PUT', '/kivicare/v1/appointments/' . $appointmentId . '/status');
            $request->set_param('id', $appointmentId);
            $request->set_param('status', $status);
            // A `rest_pre_dispatch` filter's refusal comes back as a bare WP_Error.
            $response = rest_do_request($request);
            return !is_wp_error($response) && !$response->is_error() && $response->get_status() < 300;
        } finally {
            wp_set_current_user($previous);
        }
    }
}
