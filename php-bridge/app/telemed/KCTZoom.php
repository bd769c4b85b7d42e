<?php

namespace KCTApp\telemed;

use KCTApp\connection\KCTDoctorSettings;
use KCTApp\auth\KCTTokenStore;
use KCTApp\auth\KCTZoomAuth;
use KCTApp\meetings\KCTAppointments;
use KCTApp\meetings\KCTMeetingLoop;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\connection\KCTConnect;

/**
 * The `zoom` telemed provider KiviCare core 4.x builds (CONTRACT §2). Construction is cheap
 * and idempotent (core builds providers many times per request): no network, no core call.
 * Only loaded when KiviCare's abstract class exists.
 */
class KCTZoom extends \App\abstracts\KCAbstractTelemedProvider
{
    public const REGENERATE_TOPIC = 'Regenerated Telemed Service';

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
        // A secret that no longer decrypts (the key changed) is not a configuration.
        return $c['auth_type'] !== 'none' && $c['client_id'] !== '' && KCTSettings::secret('client_secret') !== null;
    }

    public function supports_waiting_room()
    {
        return true;
    }

    /**
     * Core calls this on booking, payment and regenerate (CONTRACT §3 A, B, F). A meeting
     * that is not ready is a WP_Error: core then keeps the booking (a falsy answer would roll
     * it back), the queue retries it, and the links are mailed once it exists.
     */
    public function create_meeting($meeting_data = array())
    {
        $facts = KCTAppointmentFacts::fromMeetingData((array) $meeting_data);
        if (!$facts['appointment_id'] || !$facts['doctor_id']) {
            return new \WP_Error('kct_bad_meeting_data', __('Appointment and doctor are required.', 'kivicare-telemed-zoom'));
        }
        if (($meeting_data['topic'] ?? '') === self::REGENERATE_TOPIC) {
            // Core passes "now + 30 min" here (§8.4): keep the stored schedule instead.
            $row = KCTMappingRepository::find($facts['appointment_id']);
            if ($row !== null && !empty($row['start_time'])) {
                $facts['start_unix'] = (int) strtotime($row['start_time']);
                $facts['duration_min'] = (int) ($row['duration'] ?: $facts['duration_min']);
                $facts['timezone'] = (string) ($row['timezone'] ?: $facts['timezone']);
            }
            // The regenerate route sends no mail: the core announces the new links.
            $out = KCTMeetingLoop::run($facts['appointment_id'], 'regenerate', $facts);
        } else {
            // KiviCare mails the links itself when this returns with a meeting (§6).
            $out = KCTMeetingLoop::run($facts['appointment_id'], 'ensure', $facts, ['caller_mails' => true]);
        }
        return self::answer($out);
    }

    /** A live meeting as KiviCare reads it, or why there is none yet. */
    private static function answer($out)
    {
        if (is_wp_error($out)) {
            return $out;
        }
        $row = $out['row'];
        if (KCTMappingRepository::isLive($row)) {
            // KiviCare mails this link to the patient: their own when they were registered.
            return ['id' => $row['zoom_id'], 'join_url' => KCTMappingRepository::patientJoinUrl($row), 'appointment_id' => $row['appointment_id']];
        }
        $effect = $out['effect'];
        if ($effect['do'] === 'schedule') {
            return new \WP_Error('kct_retry_later', __('Zoom could not create the meeting yet; it will be retried and the links sent when it exists.', 'kivicare-telemed-zoom'), ['status' => 503, 'retry_at' => (int) $effect['at']]);
        }
        return new \WP_Error('kct_meeting_failed', __('The Zoom meeting could not be created.', 'kivicare-telemed-zoom'), ['status' => 502, 'reason' => $effect['reason'] ?? null]);
    }

    /**
     * Reschedule (CONTRACT §3 C, §9): core passes Zoom's id and the new start as wall-clock
     * time in the appointment's own zone, before it writes the new times to its table.
     */
    public function update_meeting($meeting_id, $meeting_data = array())
    {
        $row = KCTMappingRepository::findByZoomId((string) $meeting_id);
        if ($row === null) {
            return false;
        }
        $data = (array) $meeting_data;
        $data['appointment_id'] = $row['appointment_id'];
        $data['doctor_id'] = $data['doctor_id'] ?? $row['doctor_id'];
        $data['timezone'] = KCTAppointments::zone($row['appointment_id']) ?? ($row['timezone'] ?: wp_timezone_string());
        $out = KCTMeetingLoop::run($row['appointment_id'], 'reschedule', KCTAppointmentFacts::fromMeetingData($data), ['times_from_passed' => true]);
        if (is_wp_error($out) || $out['row'] === null) {
            return false;
        }
        return ['id' => $out['row']['zoom_id'], 'start_time' => $out['row']['start_time']];
    }

    /** An object with `zoomId`, as core reads it; no host link in it. */
    public function get_meeting_by_appointment($appointment_id)
    {
        $row = KCTMappingRepository::find((int) $appointment_id);
        if (!KCTMappingRepository::isLive($row)) {
            return null;
        }
        return (object) [
            'appointmentId' => $row['appointment_id'],
            'zoomId' => $row['zoom_id'],
            'joinUrl' => KCTMappingRepository::patientJoinUrl($row),
            'password' => $row['password'],
        ];
    }

    /** Core calls this just before it deletes an appointment (§3 D, E). */
    public function cancel_meeting_by_appointment($appointment_id)
    {
        return !is_wp_error(KCTAppointmentHooks::end((int) $appointment_id, 'delete'));
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

    /**
     * KiviCare's own settings page tests with no arguments, as the administrator (CONTRACT
     * §2): someone who is not a doctor has no Zoom user to test, so the clinic's app is.
     */
    public function test_connection($data = [], $doctor_id = 0)
    {
        $doctor = (int) $doctor_id ?: get_current_user_id();
        $r = KCTConnect::isDoctor($doctor) ? KCTConnect::testConnection($doctor) : KCTConnect::testClinicApp();
        if (is_wp_error($r)) {
            return ['success' => false, 'message' => $r->get_error_message()];
        }
        return ['success' => true, 'message' => is_string($r) ? $r : sprintf(__('Connected to Zoom as %s.', 'kivicare-telemed-zoom'), $r['email'] ?? $r['id'])];
    }

    /**
     * KiviCare's base class hooks this to anonymous admin-ajax (`kc_zoom_webhook`, CONTRACT §2)
     * and would act on unsigned input. Zoom's webhook is the signed REST route: refuse here and
     * say where it is.
     */
    public function handle_webhook()
    {
        wp_send_json_error([
            'message' => __('Zoom webhooks are received at the REST route shown in the addon\'s settings.', 'kivicare-telemed-zoom'),
            'webhook_url' => rest_url('kivicare/v1/settings/zoom-telemed/webhook'),
        ], 410);
    }

    public function delete_meeting($meeting_id)
    {
        $row = KCTMappingRepository::findByZoomId((string) $meeting_id);
        return $row !== null && !is_wp_error(KCTMeetingLoop::run($row['appointment_id'], 'delete'));
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

    /**
     * KiviCare 4.3 never calls this (CONTRACT §2); a subclass that does gets the meeting deleted
     * at Zoom and the row kept as its record. Dropping the row, as it once did, left the
     * meeting at Zoom with nothing to find it by.
     */
    protected function delete_meeting_record($meeting_id)
    {
        return $this->delete_meeting($meeting_id);
    }
}
