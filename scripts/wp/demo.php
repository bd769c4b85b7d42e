<?php
// The demo's walk through the running site: the plugin is active and its REST API answers,
// the core runs inside WordPress, and the fake Zoom answers as Zoom.
$url = getenv('KCT_WP_URL');
$zoom = getenv('KCT_ZOOM_URL');
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
define('WP_USE_THEMES', false);
require getenv('KCT_WP_ROOT') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$ok = is_plugin_active('kivicare-telemed-zoom/kivicare-telemed-zoom.php');
printf("plugin active: %s (KIVICARE_TELEMED_VERSION %s)\n", $ok ? 'yes' : 'NO', KIVICARE_TELEMED_VERSION);
$status = \KCTApp\wasm\KCTWasmLoader::status();
printf("core in this PHP: %s (%s)\n", $status->state, $status->message);
$anon = @file_get_contents("$url/wp-json/kivicare/v1/settings/zoom-telemed", false, stream_context_create(['http' => ['ignore_errors' => true]]));
printf("REST settings route, anonymous: %s\n", $anon);
$stats = json_decode((string) file_get_contents("$zoom/__admin/stats"), true);
printf("fake Zoom answering: %d meetings, calls %s\n", $stats['meetings'], json_encode($stats['calls']));
if (!$ok || !$status->ok()) {
    exit(1);
}
