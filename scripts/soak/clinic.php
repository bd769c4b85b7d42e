<?php
/**
 * Test bed only: the soak's and the booking benchmark's shared set-up (scripts/soak/run.php,
 * scripts/bench/booking.php), loaded in the CLI inside the test WordPress.
 */
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\connection\KCTConnect;

$url = parse_url((string) getenv('KCT_WP_URL'));
$_SERVER['HTTP_HOST'] = $url['host'] . ':' . $url['port'];
$_SERVER['SERVER_NAME'] = $url['host'];
$_SERVER['REQUEST_URI'] = '/';
define('WP_USE_THEMES', false);
require getenv('KCT_WP_ROOT') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/user.php';
$root = dirname(__DIR__, 2);
require_once $root . '/php-bridge/tests/wp/KCTKiviCareFixtures.php';

function zoom_admin(string $what, array $body = [], string $method = 'POST'): array
{
    $ctx = stream_context_create(['http' => ['method' => $method, 'header' => "Content-Type: application/json\r\n",
        'content' => json_encode($body ?: new stdClass()), 'ignore_errors' => true]]);
    return json_decode((string) file_get_contents(getenv('KCT_ZOOM_URL') . '/__admin/' . $what, false, $ctx), true) ?: [];
}

function fail(string $why): void
{
    fwrite(STDERR, "soak: $why\n");
    exit(1);
}

/**
 * The clinic: an OAuth app at the fake Zoom, two connected doctors, three patients, KiviCare's
 * tables emptied, and the worker script (a fresh name each run) in the test WordPress.
 *
 * @return array{0: int[], 1: int[], 2: string[], 3: string} doctors, patients, servers, the worker's key
 */
function kct_soak_clinic(): array
{
    global $wpdb, $workerFile;
    $root = dirname(__DIR__, 2);
    $servers = array_values(array_filter([getenv('KCT_WP_URL'), getenv('KCT_WP_URL2')]));
    $key = bin2hex(random_bytes(16));
    // ---- the clinic: OAuth app, two connected doctors, patients, KiviCare's table ---------------
    kct_test_create_appointments_table();
    foreach (['kc_appointments', 'kc_appointment_service_mapping', 'kc_service_doctor_mapping'] as $table) {
        $wpdb->query("TRUNCATE {$wpdb->prefix}$table");
    }
    $wpdb->query('TRUNCATE ' . KCTMappingRepository::table());
    zoom_admin('reset');
    zoom_admin('daily-cap', ['cap' => 1000000]); // the cap is injected as a fault instead
    update_option('timezone_string', 'Asia/Kolkata');
    $clientId = 'kctSoakClient01';
    $secret = 'kctSoakSecret0123456789';
    zoom_admin('app', ['client_id' => $clientId, 'client_secret' => $secret, 'redirect_uri' => KCTSettings::callbackUrl()]);
    $saved = KCTSettings::save(['auth_type' => 'oauth', 'client_id' => $clientId, 'client_secret' => $secret, 'redirect_url' => KCTSettings::callbackUrl()]);
    if ($saved !== true) {
        fail('settings: ' . (is_wp_error($saved) ? $saved->get_error_message() : 'not saved'));
    }
    $doctors = [];
    foreach (['soak.doctor.one@clinic.example', 'soak.doctor.two@clinic.example'] as $n => $email) {
        $old = get_user_by('email', $email);
        if ($old) {
            wp_delete_user($old->ID);
        }
        if (!get_role('kiviCare_doctor')) {
            add_role('kiviCare_doctor', 'kiviCare_doctor', ['read' => true]);
        }
        $id = wp_insert_user(['user_login' => 'soakdoc' . $n, 'user_email' => $email, 'user_pass' => wp_generate_password(20), 'role' => 'kiviCare_doctor']);
        zoom_admin('consent-as', ['email' => $email]);
        $authorize = KCTConnect::authorize($id);
        $ctx = stream_context_create(['http' => ['follow_location' => 0, 'ignore_errors' => true]]);
        file_get_contents(is_array($authorize) ? $authorize['url'] : '', false, $ctx);
        $location = '';
        foreach ($http_response_header as $h) {
            if (stripos($h, 'Location:') === 0) {
                $location = trim(substr($h, 9));
            }
        }
        parse_str((string) parse_url($location, PHP_URL_QUERY), $q);
        $connected = is_array($authorize) ? KCTConnect::callback($q['code'] ?? '', $q['state'] ?? '', $id, $authorize['binder']) : $authorize;
        if ($connected !== $id) {
            fail("doctor $email could not connect: " . (is_wp_error($connected) ? $connected->get_error_message() : json_encode($connected)));
        }
        $doctors[] = $id;
    }
    // Service 77 is a telemedicine service of both doctors (KiviCare's doctor-service mapping).
    foreach ($doctors as $doctor) {
        $wpdb->insert($wpdb->prefix . 'kc_service_doctor_mapping', ['service_id' => 77, 'doctor_id' => $doctor, 'telemed_service' => 'yes', 'created_at' => current_time('mysql')]);
    }
    $patients = [];
    foreach ([1, 2, 3] as $n) {
        $email = "soak.patient.$n@clinic.example";
        $old = get_user_by('email', $email);
        if ($old) {
            wp_delete_user($old->ID);
        }
        $patients[] = wp_insert_user(['user_login' => "soakpat$n", 'user_email' => $email, 'user_pass' => wp_generate_password(20), 'role' => 'subscriber']);
    }
    $worker = str_replace(['@ROOT@', '@KEY@'], [$root, $key], (string) file_get_contents(__DIR__ . '/worker.php'));
    // A fresh name each run: no server can answer from an older copy (opcache, a stale process).
    $workerFile = 'kct-soak-' . substr($key, 0, 12) . '.php';
    foreach (glob(getenv('KCT_WP_ROOT') . '/kct-soak-*.php') as $old) {
        unlink($old);
    }
    file_put_contents(getenv('KCT_WP_ROOT') . '/' . $workerFile, $worker);
    return [$doctors, $patients, $servers, $key];
}

/** Runs the actions at once, each on the next server in turn. */
function run_actions(array $actions, array $servers, string $key): array
{
    global $workerFile;
    $mh = curl_multi_init();
    $handles = [];
    foreach ($actions as $i => $params) {
        $base = $servers[$i % count($servers)];
        $h = curl_init($base . '/' . $workerFile . '?' . http_build_query($params + ['key' => $key]));
        curl_setopt_array($h, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 120]);
        curl_multi_add_handle($mh, $h);
        $handles[$i] = $h;
    }
    do {
        $status = curl_multi_exec($mh, $running);
        if ($running) {
            curl_multi_select($mh, 1.0);
        }
    } while ($running && $status === CURLM_OK);
    $out = [];
    foreach ($handles as $i => $h) {
        $code = curl_getinfo($h, CURLINFO_HTTP_CODE);
        $body = (string) curl_multi_getcontent($h);
        if ($code !== 200) {
            fail("action " . json_encode($actions[$i]) . " answered HTTP $code: " . substr($body, 0, 300));
        }
        $out[] = json_decode($body, true);
        curl_multi_remove_handle($mh, $h);
    }
    curl_multi_close($mh);
    return $out;
}

