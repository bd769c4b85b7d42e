<?php
namespace KCTApp\telemed;

use KCTApp\auth\KCTDoctorSettings;
use KCTApp\auth\KCTTokenStore;
use KCTApp\auth\KCTZoomAuth;
use KCTApp\models\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\zoom\KCTConnect;

/**
 * The `zoom` telemed provider KiviCare core 4.x builds (CONTRACT §2). Construction is cheap
 * and idempotent (core builds providers many times per request): no network, no core call.
 * Only loaded when KiviCare's abstract class exists.
 */
class KCTZoom extends \App\abstracts\KCAbstractTelemedProvider
{
    const REGENERATE_TOPIC = 'Regenerated Telemed Service';

    protected $provider_id = 'zoom';
    protected $provider_name = 'Zoom';

    protected function get_default_config()
    {
        return KCTSettings::defaults();
    }

    public function get_provider_id()
    {
        return 'zoom';
    }

    public function get_provider_name()
    {
        return __('Zoom', 'kivicare-telemed-zoom');
    }

    public function is_configured()
    {
        $c = KCTSettings::raw();
        return $c['auth_type'] !== 'none' && $c['client_id'] !== '' && $c['client_secret'] !== '';
    }

    public function supports_waiting_room()
    {
        return true;
    }

    /**
     * Core calls this on booking, payment and regenerate (CONTRACT §3 A, B, F). A failure is
     * a WP_Error: core then keeps the booking (a falsy answer would roll it back) and the
     * meeting is retried by cron.
     */
    public function create_meeting($meeting_data = array())
    {
        $facts = KCTAppointmentFacts::fromMeetingData((array) $meeting_data);
        if (!$facts['appointment_id'] || !$facts['doctor_id']) {
            return new \WP_Error('kct_bad_meeting_data', __('Appointment and doctor are required.', 'kivicare-telemed-zoom'));
        }
        $regenerate = ($meeting_data['topic'] ?? '') === self::REGENERATE_TOPIC;
        if ($regenerate) {
            // Core passes "now + 30 min" here (§8.4); keep the stored schedule instead.
            $row = KCTMappingRepository::find($facts['appointment_id']);
            if ($row !== null && !empty($row['start_time']) && strtotime($row['start_time']) > time()) {
                $facts['start_unix'] = strtotime($row['start_time']);
                $facts['duration_min'] = (int) ($row['duration'] ?: $facts['duration_min']);
                $facts['timezone'] = (string) ($row['timezone'] ?: $facts['timezone']);
            }
        }
        $row = $regenerate ? KCTMeetingService::regenerate($facts) : KCTMeetingService::ensure($facts);
        if (is_wp_error($row)) {
            return $row;
        }
        return ['id' => $row['zoom_id'], 'join_url' => $row['join_url'], 'appointment_id' => $row['appointment_id']];
    }

    /** Reschedule (CONTRACT §3 C): core passes Zoom's id and the new local start. */
    public function update_meeting($meeting_id, $meeting_data = array())
    {
        $row = KCTMappingRepository::findByZoomId((string) $meeting_id);
        if ($row === null) {
            return false;
        }
        $data = (array) $meeting_data + ['appointment_id' => $row['appointment_id'], 'timezone' => $row['timezone']];
        $data['appointment_id'] = $row['appointment_id'];
        $data['doctor_id'] = $data['doctor_id'] ?? $row['doctor_id'];
        $updated = KCTMeetingService::reschedule(KCTAppointmentFacts::fromMeetingData($data));
        return is_wp_error($updated) ? false : ['id' => $updated['zoom_id'], 'start_time' => $updated['start_time']];
    }

    /** An object with `zoomId`, as core reads it; no host link in it. */
    public function get_meeting_by_appointment($appointment_id)
    {
        $row = KCTMappingRepository::find((int) $appointment_id);
        if ($row === null || $row['status'] !== 'active') {
            return null;
        }
        return (object) [
            'appointmentId' => $row['appointment_id'],
            'zoomId' => $row['zoom_id'],
            'joinUrl' => $row['join_url'],
            'password' => $row['password'],
        ];
    }

    public function cancel_meeting_by_appointment($appointment_id)
    {
        return !is_wp_error(KCTMeetingService::cancel((int) $appointment_id));
    }

    /**
     * Non-empty makes the doctor eligible for telemed bookings. Core only tests for
     * emptiness, so this answers with a marker, never the token itself.
     */
    public function get_doctor_access_token($doctor_id)
    {
        $ctx = KCTZoomAuth::context((int) $doctor_id);
        if (is_wp_error($ctx)) {
            return null;
        }
        if ($ctx['mode'] === 's2s') {
            return $ctx['host'] !== '' ? 'zoom-server-to-server' : null;
        }
        return KCTTokenStore::get((int) $doctor_id)['state'] === 'ok' ? 'zoom-oauth-connected' : null;
    }

    public function test_connection($data = [], $doctor_id = 0)
    {
        $doctor = (int) $doctor_id ?: get_current_user_id();
        $r = KCTConnect::testConnection($doctor);
        return is_wp_error($r)
            ? ['success' => false, 'message' => $r->get_error_message()]
            : ['success' => true, 'message' => sprintf(__('Connected to Zoom as %s.', 'kivicare-telemed-zoom'), $r['email'] ?? $r['id'])];
    }

    public function delete_meeting($meeting_id)
    {
        $row = KCTMappingRepository::findByZoomId((string) $meeting_id);
        return $row !== null && !is_wp_error(KCTMeetingService::delete($row['appointment_id']));
    }

    public function get_meeting($meeting_id)
    {
        $row = KCTMappingRepository::findByZoomId((string) $meeting_id);
        if ($row === null) {
            return false;
        }
        unset($row['start_url']);
        return $row;
    }

    public function update_doctor_config(int $doctor_id, array $config): bool
    {
        $r = KCTConnect::saveDoctorConfig($doctor_id, $config);
        return !is_wp_error($r);
    }

    public function get_authorization_url($doctor_id): string
    {
        $r = KCTConnect::authorizeUrl((int) $doctor_id);
        return is_wp_error($r) ? '' : $r;
    }

    public function is_doctor_telemed_connected(): bool
    {
        return $this->get_doctor_access_token(get_current_user_id()) !== null;
    }

    public function disconnect_doctor(int $doctor_id): bool
    {
        return !is_wp_error(KCTConnect::disconnect($doctor_id));
    }

    protected function save_zoom_meeting_record($meeting_data)
    {
        $id = (int) ($meeting_data['appointment_id'] ?? 0);
        $row = $id ? KCTMappingRepository::find($id) : null;
        return $row !== null ? $id : false;
    }

    protected function delete_meeting_record($meeting_id)
    {
        $row = KCTMappingRepository::findByZoomId((string) $meeting_id);
        return $row !== null && KCTMappingRepository::delete($row['appointment_id']);
    }
}
