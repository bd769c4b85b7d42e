<?php
// The WordPress suite runs inside the test bed's real WordPress on real MariaDB
// (scripts/testbed.sh exports KCT_WP_ROOT, KCT_WP_URL and KCT_ZOOM_URL).
$root = getenv('KCT_WP_ROOT');
if (!$root || !is_file("$root/wp-load.php")) {
    fwrite(STDERR, "KCT_WP_ROOT is not a WordPress: run through scripts/testbed.sh run test ...\n");
    exit(1);
}
$url = parse_url((string) getenv('KCT_WP_URL'));
$_SERVER['HTTP_HOST'] = $url['host'] . ':' . $url['port'];
$_SERVER['SERVER_NAME'] = $url['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
define('WP_USE_THEMES', false);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/user.php';
require __DIR__ . '/KCTWPTestCase.php';
require __DIR__ . '/KCTHttpTestCase.php';
require __DIR__ . '/KCTZoomFixtures.php';
// KiviCare core is absent: the test-only stand-in of its abstract provider (CONTRACT §2).
require __DIR__ . '/support/KCAbstractTelemedProvider.php';
require __DIR__ . '/support/KCBaseModel.php';
require __DIR__ . '/KCTKiviCareFixtures.php';
// KiviCare's appointments table (test-only stand-in: the 4.3.0 columns the addon reads).
kct_test_create_appointments_table();
