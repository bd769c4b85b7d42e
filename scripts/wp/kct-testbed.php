<?php
/**
 * Plugin Name: KCT test bed
 * Description: Test bed only: no mail server here, and loopback HTTP to the fake Zoom is allowed.
 */
add_filter('pre_wp_mail', '__return_true');
add_filter('http_request_host_is_external', function ($external, $host) {
    return $external || $host === '127.0.0.1';
}, 10, 2);
// Zoom calls give up after 3 s here (15 s in the plugin), so a "latency past the HTTP
// timeout" fault costs seconds, not minutes, in the soak.
add_filter('http_request_args', function ($args, $url) {
    if (defined('KCT_ZOOM_OAUTH_BASE') && strpos($url, KCT_ZOOM_OAUTH_BASE) === 0) {
        $args['timeout'] = 3;
    }
    return $args;
}, 10, 2);
// A stand-in of KiviCare's end-to-end encryption of its REST answers (CONTRACT §9): once a
// user has a `client_public_key` (KiviCare's dashboard registers one), every kivicare/v*
// answer to them is encrypted. Only the shape matters here: a base64 body and the header.
add_filter('rest_post_dispatch', function ($response, $server, $request) {
    $user = get_current_user_id();
    if (!$user || strpos($request->get_route(), '/kivicare/v') !== 0 || !get_user_meta($user, 'client_public_key', true)) {
        return $response;
    }
    $response = rest_ensure_response($response);
    $response->set_data(base64_encode(wp_json_encode($response->get_data())));
    $response->header('X-KiviCare-Encrypted', 'true');
    return $response;
}, 999, 3);

// Zero cost where Zoom is not involved (issue 14): `?kct_probe=ID` on any request records
// whether it reached the WebAssembly runtime, for the test to read back.
if (isset($_GET['kct_probe']) && preg_match('/^[a-z0-9]{1,32}$/', (string) $_GET['kct_probe'])) {
    add_action('shutdown', static function () {
        $touched = class_exists('KCTApp\\wasm\\KCTWasmLoader') && \KCTApp\wasm\KCTWasmLoader::touched();
        update_option('kct_probe_' . $_GET['kct_probe'], $touched ? 'touched' : 'untouched', false);
    }, 0);
}

// A stand-in of KiviCare 4.3.0's status route (`PUT kivicare/v1/appointments/{id}/status`,
// CONTRACT §9) while KiviCare core is absent: the addon checks patients in and out through
// it. As KiviCare's: a logged-in user (its own permission check is finer), the row's
// status updated, then `kc_appointment_cancelled` for 0 and `kc_appointment_status_update`.
add_action('rest_api_init', static function () {
    if (class_exists('App\\controllers\\api\\AppointmentsController')) {
        return;
    }
    register_rest_route('kivicare/v1', '/appointments/(?P<id>\d+)/status', [
        'methods' => 'PUT',
        'permission_callback' => static function () {
            return current_user_can('read');
        },
        'args' => ['id' => ['type' => 'integer', 'required' => true], 'status' => ['type' => 'integer', 'required' => true, 'enum' => [0, 1, 2, 3, 4]]],
        'callback' => static function (WP_REST_Request $r) {
            global $wpdb;
            $t = $wpdb->prefix . 'kc_appointments';
            $id = (int) $r['id'];
            $status = (int) $r['status'];
            if (!$wpdb->get_var($wpdb->prepare("SELECT id FROM $t WHERE id = %d", $id))) {
                return new WP_REST_Response(['status' => false, 'message' => 'Appointment not found'], 404);
            }
            $wpdb->update($t, ['status' => $status], ['id' => $id]);
            $appointment = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE id = %d", $id));
            if ($status === 0) {
                do_action('kc_appointment_cancelled', $id);
            }
            do_action('kc_appointment_status_update', $id, $status, $appointment);
            return new WP_REST_Response(['status' => true, 'message' => 'Appointment status updated successfully', 'data' => ['id' => $id, 'status' => $status]], 200);
        },
    ]);
});
