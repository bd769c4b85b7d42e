<?php
// Installs WordPress into the (fresh) database and activates the plugin (not with --no-plugin:
// the dist test bed installs the release zip instead).
// With --network, it also makes the network's tables for a subdirectory multisite (the
// multisite test bed then turns MULTISITE on and runs install-network.php).
// Usage: php install.php WP_ROOT URL [--no-plugin | --network]
[$_, $root, $url] = $argv;
$withPlugin = ($argv[3] ?? '') === '';
$network = ($argv[3] ?? '') === '--network';
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$r = wp_install('KiviCare Zoom test bed', 'admin', 'admin@example.org', false, '', 'admin-local-only');
update_option('permalink_structure', '/%postname%/');
// KiviCare core creates these roles when installed; it is absent here, so the test bed does.
foreach (['kiviCare_doctor' => 'Doctor', 'kiviCare_patient' => 'Patient', 'kiviCare_receptionist' => 'Receptionist', 'kiviCare_clinic_admin' => 'Clinic admin'] as $role => $label) {
    add_role($role, $label, ['read' => true]);
}
if ($network) {
    require_once ABSPATH . 'wp-admin/includes/network.php';
    // As wp-admin/network.php does: name the network tables before making them.
    foreach ($wpdb->tables('ms_global') as $table => $prefixed) {
        $wpdb->$table = $prefixed;
    }
    install_network();
    $made = populate_network(1, (string) parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT), 'admin@example.org', 'KCT test network', '/', false);
    if (is_wp_error($made)) {
        fwrite(STDERR, 'network set-up failed: ' . $made->get_error_message() . "\n");
        exit(1);
    }
    echo "WordPress installed, network tables made\n";
    exit(0);
}
if (!$withPlugin) {
    echo "WordPress installed\n";
    exit(0);
}
$result = activate_plugin('kivicare-telemed-zoom/kivicare-telemed-zoom.php');
if (is_wp_error($result)) {
    fwrite(STDERR, 'plugin activation failed: ' . $result->get_error_message() . "\n");
    exit(1);
}
echo "WordPress installed, plugin active\n";
