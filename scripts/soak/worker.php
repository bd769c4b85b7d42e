<?php
/**
 * Test bed only (copied into the test WordPress by scripts/soak/run.php): one KiviCare action
 * per request, done as KiviCare 4.3.0 does it (CONTRACT §3, §9): its appointments table
 * (the test stand-in), its transaction around a booking, its call order. Answers JSON.
 */
if (!hash_equals('@KEY@', (string) ($_GET['key'] ?? ''))) {
    http_response_code(403);
    exit;
}
define('WP_USE_THEMES', false);
require __DIR__ . '/wp-load.php';
require '@ROOT@/php-bridge/tests/wp/support/KCAbstractTelemedProvider.php';
require_once '@ROOT@/php-bridge/tests/wp/KCTKiviCareFixtures.php';

// Meetings name their appointment, so the soak can attribute every meeting at Zoom.
add_filter('kct_zoom_meeting_policy', static function ($policy) {
    $policy['topic_template'] = 'Visit #{appointment_id} {ref}';
    return $policy;
});

global $wpdb;
$t = $wpdb->prefix . 'kc_appointments';
$id = (int) ($_GET['id'] ?? 0);
$p = static function () {
    $providers = apply_filters('kc_telemed_providers', []);
    $class = $providers['zoom']['class'];
    return new $class($providers['zoom']['settings_key']);
};
$appt = static function () use ($wpdb, $t, $id) {
    return $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE id = %d", $id), ARRAY_A);
};
$local = static function (array $a): string {
    return $a['appointment_start_date'] . ' ' . $a['appointment_start_time'];
};
$write = static function (int $id, int $doctor, int $patient, string $localStart, int $minutes, int $status) {
    kct_test_write_appointment($id, $doctor, $patient, $localStart, $minutes, 'America/New_York', $status);
};
$meetingData = static function (array $a) use ($local, $id) {
    return ['topic' => 'Consultation', 'type' => 'scheduled', 'start_time' => $local($a), 'duration' => 30,
        'timezone' => wp_timezone_string(), 'password' => '', 'waiting_room' => false, 'auto_recording' => false,
        'host_video' => true, 'participant_video' => true, 'mute_upon_entry' => true,
        'patient_id' => (int) $a['patient_id'], 'doctor_id' => (int) $a['doctor_id'], 'appointment_id' => $id];
};

$action = $_GET['action'] ?? '';
$out = ['action' => $action, 'id' => $id];
switch ($action) {
    case 'book': // §3 A: the row, then create_meeting, inside KiviCare's transaction
        // The benchmark (scripts/bench/booking.php) books through a stand-in provider that
        // answers at once (`provider=none`) as well, and reads what the booking cost.
        $started = hrtime(true);
        [$calls, $nanos, $runtimeNanos] = [\KCTApp\wasm\KCTCore::$calls, \KCTApp\wasm\KCTCore::$nanos, \KCTApp\wasm\KCTCore::$runtimeNanos];
        \KCTApp\wasm\KCTCore::$recent = [];
        $provider = ($_GET['provider'] ?? 'zoom') === 'none' ? new class () {
            public function create_meeting(array $data): array
            {
                return ['meeting_id' => '0', 'join_url' => '', 'start_url' => ''];
            }
        } : $p();
        $status = (int) $_GET['status'];
        $wpdb->query('START TRANSACTION');
        $write($id, (int) $_GET['doctor'], (int) $_GET['patient'], (string) $_GET['start'], 30, $status);
        $wpdb->insert($wpdb->prefix . 'kc_appointment_service_mapping', ['appointment_id' => $id, 'service_id' => 77, 'created_at' => current_time('mysql')]);
        if ($status !== 2) {
            $r = $provider->create_meeting($meetingData($appt()));
            $out['meeting'] = is_wp_error($r) ? $r->get_error_code() : 'ok';
        }
        $out['end'] = $_GET['end'] === 'commit' ? 'commit' : 'rollback';
        $wpdb->query($out['end'] === 'commit' ? 'COMMIT' : 'ROLLBACK');
        $out['booking_us'] = (hrtime(true) - $started) / 1000;
        $out['core_calls'] = \KCTApp\wasm\KCTCore::$calls - $calls;
        $out['core_us'] = (\KCTApp\wasm\KCTCore::$nanos - $nanos) / 1000;
        $out['runtime_us'] = (\KCTApp\wasm\KCTCore::$runtimeNanos - $runtimeNanos) / 1000;
        // Each core call of the booking, in order: operation, microseconds.
        $out['core_calls_us'] = array_map(static function (array $c): array {
            return [$c[0], $c[1] / 1000];
        }, \KCTApp\wasm\KCTCore::$recent);
        break;
    case 'confirm': // §8.1: pay later, payment, check-in
        $a = $appt();
        if ($a) {
            $status = (int) ($_GET['status'] ?? 1);
            $wpdb->update($t, ['status' => $status], ['id' => $id]);
            do_action('kc_appointment_status_update', $id, $status, $appt());
        }
        break;
    case 'reschedule': // §3 C, §9: the provider first, with the new local time; then the row
        $a = $appt();
        if ($a) {
            $new = (new DateTimeImmutable($local($a), new DateTimeZone('America/New_York')))->modify('+' . (int) $_GET['minutes'] . ' minutes');
            $m = $p()->get_meeting_by_appointment($id);
            if ($m && $m->zoomId) {
                $p()->update_meeting($m->zoomId, ['start_time' => $new->format('Y-m-d H:i:s'), 'duration' => 30, 'doctor_id' => (int) $a['doctor_id']]);
            }
            $write($id, (int) $a['doctor_id'], (int) $a['patient_id'], $new->format('Y-m-d H:i:s'), 30, (int) $a['status']);
            do_action('kc_appointment_updated', $id, ['appointment_start_time' => $new->format('H:i:s')], (object) $appt(), null);
        }
        break;
    case 'cancel':
        if ($appt()) {
            $wpdb->update($t, ['status' => 0], ['id' => $id]);
            do_action('kc_appointment_status_update', $id, 0, $appt());
            do_action('kc_appointment_cancelled', $id);
        }
        break;
    case 'delete': // §3 D: the provider, then the row, then the action
        $a = $appt();
        if ($a) {
            $p()->cancel_meeting_by_appointment($id);
            $wpdb->delete($t, ['id' => $id]);
            do_action('kc_appointment_deleted', $id, $a);
        }
        break;
    case 'regenerate': // §3 F
        $a = $appt();
        if ($a) {
            $r = $p()->create_meeting(['topic' => 'Regenerated Telemed Service', 'start_time' => current_time('mysql'), 'duration' => 30,
                'doctor_id' => (int) $a['doctor_id'], 'patient_id' => (int) $a['patient_id'], 'appointment_id' => $id,
                'timezone' => wp_timezone_string()]);
            $out['meeting'] = is_wp_error($r) ? $r->get_error_code() : 'ok';
        }
        break;
    case 'reassign':
        $a = $appt();
        if ($a) {
            $wpdb->update($t, ['doctor_id' => (int) $_GET['doctor']], ['id' => $id]);
            do_action('kc_appointment_updated', $id, ['doctor_id' => (int) $_GET['doctor']], $appt(), null);
        }
        break;
    case 'drain': // the queue: due resumes (all when asked), then the sweep
        $ran = 0;
        foreach ((array) _get_cron_array() as $time => $hooks) {
            foreach ($hooks[\KCTApp\meetings\KCTQueue::HOOK] ?? [] as $event) {
                if ($time <= time() || !empty($_GET['all'])) {
                    wp_unschedule_event($time, \KCTApp\meetings\KCTQueue::HOOK, $event['args']);
                    \KCTApp\meetings\KCTMeetingLoop::resume($event['args'][0]);
                    $ran++;
                }
            }
        }
        if (!empty($_GET['all'])) {
            // Time passes for the rows too: what is owed is due now.
            $m = \KCTApp\meetings\KCTMappingRepository::table();
            $wpdb->query("UPDATE $m SET next_attempt_at = NULL, claimed_until = NULL, version = version + 1 WHERE intent IS NOT NULL");
        }
        $ran += \KCTApp\meetings\KCTMeetingLoop::sweep(200);
        $out['ran'] = $ran;
        $out['owed'] = (int) $wpdb->get_var('SELECT COUNT(*) FROM ' . \KCTApp\meetings\KCTMappingRepository::table() . ' WHERE intent IS NOT NULL');
        break;
    default:
        http_response_code(400);
}
header('Content-Type: application/json');
echo wp_json_encode($out);
