<?php
// The multisite test bed, once MULTISITE is on: a second site (/clinic2/), KiviCare's roles on
// both, and the plugin network-activated (its activation makes every site's tables).
// Usage: php install-network.php WP_ROOT URL
[$_, $root, $url] = $argv;
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
$_SERVER['REQUEST_URI'] = '/';
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$site = wp_insert_site(['domain' => $_SERVER['HTTP_HOST'], 'path' => '/clinic2/', 'title' => 'Clinic two', 'user_id' => 1]);
if (is_wp_error($site)) {
    fwrite(STDERR, 'second site: ' . $site->get_error_message() . "\n");
    exit(1);
}
// wp_insert_site drops the port from a domain (WordPress networks assume port 80 or 443);
// the test bed serves on its own port, so the site's address is set as a host would.
global $wpdb;
$wpdb->update($wpdb->blogs, ['domain' => $_SERVER['HTTP_HOST']], ['blog_id' => $site]);
clean_blog_cache($site);
update_blog_option($site, 'siteurl', "$url/clinic2");
update_blog_option($site, 'home', "$url/clinic2");
foreach (get_sites(['fields' => 'ids']) as $id) {
    switch_to_blog($id);
    foreach (['kiviCare_doctor' => 'Doctor', 'kiviCare_patient' => 'Patient', 'kiviCare_receptionist' => 'Receptionist', 'kiviCare_clinic_admin' => 'Clinic admin'] as $role => $label) {
        add_role($role, $label, ['read' => true]);
    }
    restore_current_blog();
}
$result = activate_plugin('kivicare-telemed-zoom/kivicare-telemed-zoom.php', '', true);
if (is_wp_error($result)) {
    fwrite(STDERR, 'network activation failed: ' . $result->get_error_message() . "\n");
    exit(1);
}
echo "network of " . count(get_sites()) . " sites, plugin network-active\n";
