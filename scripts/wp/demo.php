<?php
// The demo's walk through the running site, as a clinic would use it: the admin sets up the
// clinic's Zoom app, a doctor connects Zoom through the OAuth flow, a telemedicine
// appointment is confirmed, and the meeting's links are shown. The fake Zoom plays Zoom.
$url = getenv('KCT_WP_URL');
$zoom = getenv('KCT_ZOOM_URL');
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
define('WP_USE_THEMES', false);
require getenv('KCT_WP_ROOT') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
// KiviCare core is absent: its appointments table is the test bed's stand-in (CONTRACT §9).
require_once dirname(__DIR__, 2) . '/php-bridge/tests/wp/KCTKiviCareFixtures.php';

use KCTApp\settings\KCTSettings;

function step(string $s): void { echo "\n== $s\n"; }
function http(string $method, string $path, $body = null, ?array $auth = null, bool $absolute = false, string $cookie = ''): array
{
    global $url;
    $h = "Content-Type: application/json\r\n" . ($auth ? 'Authorization: Basic ' . base64_encode(implode(':', $auth)) . "\r\n" : '')
        . ($cookie !== '' ? "Cookie: $cookie\r\n" : '');
    $ctx = stream_context_create(['http' => ['method' => $method, 'header' => $h, 'content' => $body === null ? '' : json_encode($body), 'ignore_errors' => true, 'follow_location' => 0]]);
    $raw = file_get_contents($absolute ? $path : $url . $path, false, $ctx);
    $headers = [];
    foreach ($http_response_header as $line) {
        if (strpos($line, ':') !== false) {
            [$k, $v] = explode(':', $line, 2);
            $headers[strtolower(trim($k))] = trim($v);
            if (strtolower(trim($k)) === 'set-cookie') {
                $headers['cookies'][] = explode(';', trim($v), 2)[0];
            }
        }
    }
    return [(int) explode(' ', $http_response_header[0])[1], json_decode((string) $raw, true), $headers];
}
function zoom(string $what, array $body): void
{
    global $zoom;
    file_get_contents("$zoom/__admin/$what", false, stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: application/json\r\n", 'content' => json_encode($body)]]));
}
function user(string $login, string $role, string $name): array
{
    $id = wp_insert_user(['user_login' => $login, 'user_email' => "$login@clinic.example", 'user_pass' => wp_generate_password(24), 'role' => $role, 'display_name' => $name]);
    [$password] = WP_Application_Passwords::create_new_application_password($id, ['name' => 'demo']);
    return [$id, [$login, $password]];
}

step('1. The plugin is active and the core runs inside WordPress');
printf("plugin active: %s, KIVICARE_TELEMED_VERSION %s\n", is_plugin_active('kivicare-telemed-zoom/kivicare-telemed-zoom.php') ? 'yes' : 'NO', KIVICARE_TELEMED_VERSION);
$status = \KCTApp\wasm\KCTWasmLoader::status();
printf("core: %s (%s)\n", $status->state, $status->message);

step('2. The clinic admin sets up the clinic\'s Zoom OAuth app');
$admin = [get_user_by('login', 'admin')->user_login, WP_Application_Passwords::create_new_application_password(get_user_by('login', 'admin')->ID, ['name' => 'demo'])[0]];
$callback = KCTSettings::callbackUrl();
// The fake Zoom outlives a demo (the site keeps running): a second `make demo` starts it afresh too.
zoom('reset', []);
zoom('app', ['client_id' => 'demoClinicApp01', 'client_secret' => 'demoClinicSecret0123456', 'redirect_uri' => $callback]);
[$s, $b] = http('PUT', '/wp-json/kivicare/v1/settings/zoom-telemed', ['auth_type' => 'oauth', 'client_id' => 'demoClinicApp01', 'client_secret' => 'demoClinicSecret0123456', 'redirect_url' => $callback,
    'webhook_secret' => 'demoWebhookSecret012345'], $admin);
printf("PUT settings/zoom-telemed -> %d %s (secret echoed back: %s)\n", $s, $b['message'], $b['data']['client_secret'] === '' ? 'no' : 'YES');

step('3. Dr. Asha Rao connects her Zoom account (authorize -> Zoom consent -> callback)');
[$doctorId, $doctor] = user('dr.rao', 'kiviCare_doctor', 'Dr. Asha Rao');
[$patientId, $patient] = user('pat.meyer', 'kiviCare_patient', 'Pat Meyer');
[, $b, $h] = http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/authorize', null, $doctor);
echo "authorize URL: ", substr($b['data']['redirect_url'], 0, 110), "...\n";
// Her browser keeps the flow's binder cookie and her login; the callback needs both.
$session = WP_Session_Tokens::get_instance($doctorId)->create(time() + HOUR_IN_SECONDS);
$browser = implode('; ', array_merge($h['cookies'] ?? [], [LOGGED_IN_COOKIE . '=' . rawurlencode(wp_generate_auth_cookie($doctorId, time() + HOUR_IN_SECONDS, 'logged_in', $session))]));
[, , $h] = http('GET', $b['data']['redirect_url'], null, null, true);
[$s, , $h] = http('GET', substr($h['location'], strlen($url)), null, null, false, $browser);
printf("callback -> %d, browser sent on to %s\n", $s, $h['location']);
[, $b] = http('PUT', '/wp-json/kivicare/v1/settings/zoom-telemed/test-connection', [], $doctor);
printf("test connection: %s\n", $b['message']);

step('4. A telemedicine appointment is confirmed (tomorrow 10:00 in the clinic\'s zone, Asia/Kolkata)');
update_option('timezone_string', 'Asia/Kolkata');
$tomorrow = (new DateTimeImmutable('tomorrow 10:00', new DateTimeZone('Asia/Kolkata')));
add_filter('kct_zoom_is_telemed_appointment', '__return_true');
// KiviCare writes the appointment first (booked, status 1), then fires its hook.
kct_test_create_appointments_table();
kct_test_write_appointment(1001, $doctorId, $patientId, $tomorrow->format('Y-m-d H:i:s'), 30, 'Asia/Kolkata', 1);
// What KiviCare core fires when an appointment is confirmed (pay later, payment, check-in).
do_action('kc_appointment_status_update', 1001, 1, ['doctor_id' => $doctorId, 'patient_id' => $patientId,
    'appointment_start_date' => $tomorrow->format('Y-m-d'), 'appointment_start_time' => '10:00:00', 'appointment_end_time' => '10:30:00',
    'appointment_timezone' => 'Asia/Kolkata']);
$row = \KCTApp\meetings\KCTMappingRepository::find(1001);
printf("mapping: status %s, Zoom meeting %s, start %s (UTC; 10:00 Kolkata), %d min\n", $row['status'], $row['zoom_id'], $row['start_time'], $row['duration']);

step('5. The links');
[, $b] = http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/meeting/1001', null, $patient);
printf("patient sees  join link : %s (start link: %s)\n", $b['data']['join_url'], isset($b['data']['start_url']) ? 'YES' : 'none');
[, $b] = http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/meeting/1001', null, $doctor);
printf("doctor sees   start link: %s\n", $b['data']['start_url']);

step('6. The visit: Zoom tells who joined, left and waited (signed webhooks)');
$event = static function (string $event, array $object) use ($zoom, $url) {
    $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: application/json\r\n",
        'content' => json_encode(['url' => "$url/wp-json/kivicare/v1/settings/zoom-telemed/webhook", 'secret' => 'demoWebhookSecret012345',
            'event' => $event, 'payload' => ['account_id' => 'demo', 'object' => $object]])]]);
    return json_decode((string) file_get_contents("$zoom/__admin/webhook", false, $ctx), true)['status'] ?? 0;
};
wp_cache_delete($doctorId, 'user_meta'); // the web server stored it when she connected
$zoomUser = (string) get_user_meta($doctorId, \KCTApp\auth\KCTTokenStore::ZOOM_USER, true);
$meeting = ['id' => (int) $row['zoom_id'], 'host_id' => $zoomUser];
$at = static function (int $minutes) use ($tomorrow) {
    return gmdate('Y-m-d\\TH:i:s\\Z', $tomorrow->getTimestamp() + 60 * $minutes);
};
$patientMail = get_userdata($patientId)->user_email;
$event('meeting.participant_put_in_waiting_room', $meeting + ['participant' => ['email' => $patientMail, 'date_time' => $at(-2)]]);
$waiting = \KCTApp\visits\KCTVisits::waitingFor($doctorId);
printf("patient waiting: %s (the doctor sees \"Your patient is waiting\" with the Start button)\n", $waiting ? 'yes' : 'no');
$event('meeting.participant_joined', $meeting + ['participant' => ['id' => $zoomUser, 'join_time' => $at(0)]]);
$event('meeting.participant_joined', $meeting + ['participant' => ['email' => $patientMail, 'join_time' => $at(1)]]);
$event('meeting.participant_left', $meeting + ['participant' => ['email' => $patientMail, 'leave_time' => $at(24)]]);
$status = $event('meeting.ended', $meeting + ['end_time' => $at(25)]);
$visit = \KCTApp\visits\KCTVisits::find(1001);
printf("webhooks -> %d; visit: patient %s, %d min together, %s (patient known by %s)\n", $status,
    $visit && isset($visit['patient_joined_at']) ? 'joined at ' . wp_date('H:i', $visit['patient_joined_at']) : 'never joined',
    intdiv((int) ($visit['together_seconds'] ?? 0), 60), $visit['outcome'] ?? 'no outcome', $visit['patient_known_by'] ?? '-');
$kivicare = (int) $wpdb->get_var("SELECT status FROM {$wpdb->prefix}kc_appointments WHERE id = 1001");
printf("KiviCare's appointment: status %d (%s), set through KiviCare's own status route\n", $kivicare,
    [1 => 'booked', 4 => 'checked in', 3 => 'checked out'][$kivicare] ?? 'other');

$stats = json_decode((string) file_get_contents("$zoom/__admin/stats"), true);
printf("\nfake Zoom: %d meeting(s), calls %s, invalid bodies %d\n", $stats['meetings'], json_encode($stats['calls']), $stats['invalid_bodies']);
if ($row['status'] !== 'active' || !\KCTApp\wasm\KCTWasmLoader::status()->ok() || ($visit['together_seconds'] ?? 0) !== 23 * 60
    || $kivicare !== 3) {
    exit(1);
}
