<?php
// The dist test bed: installs the release zip the way an administrator's "Upload Plugin" does
// (WordPress's Plugin_Upgrader on the zip), activates it, and checks what was installed.
// Usage: php install-zip.php WP_ROOT URL ZIP
[$_, $root, $url, $zip] = $argv;
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
define('FS_METHOD', 'direct');
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/file.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';

function fail(string $why): void
{
    fwrite(STDERR, "install-zip: $why\n");
    exit(1);
}

wp_set_current_user(1);
$skin = new WP_Ajax_Upgrader_Skin();
$result = (new Plugin_Upgrader($skin))->install(realpath($zip));
if ($result !== true) {
    fail('the upgrader refused the zip: ' . implode('; ', $skin->get_error_messages()));
}
$file = 'kivicare-telemed-zoom/kivicare-telemed-zoom.php';
$dir = WP_PLUGIN_DIR . '/kivicare-telemed-zoom';
if (is_link($dir) || !is_file(WP_PLUGIN_DIR . '/' . $file)) {
    fail('the plugin is not where WordPress installs plugins');
}
$data = get_plugin_data(WP_PLUGIN_DIR . '/' . $file, false, false);
if ($data['TextDomain'] !== 'kivicare-telemed-zoom' || $data['Version'] === '') {
    fail('the plugin header lost its text domain or version');
}
// A release, not a checkout: no tests or dev files, both architectures, the catalogue.
foreach (['tests', 'runtime', 'phpunit-wp.xml', 'phpunit-bridge.xml', 'lib/kct_runtime.preload.h', 'lib/libkct_wasm_runtime.so'] as $dev) {
    if (file_exists("$dir/$dev")) {
        fail("the release carries $dev");
    }
}
foreach (['lib/x86_64/libkct_wasm_runtime.so', 'lib/aarch64/libkct_wasm_runtime.so', 'lib/kc_telemed.wasm',
    'app/wasm/kct_runtime.h', 'preload.php', 'readme.txt', 'languages/kivicare-telemed-zoom.pot', 'assets/pkg/kc_telemed_bg.wasm'] as $shipped) {
    if (!is_file("$dir/$shipped")) {
        fail("the release lacks $shipped");
    }
}
$activated = activate_plugin($file);
if (is_wp_error($activated)) {
    fail('activation failed: ' . $activated->get_error_message());
}
// The loader picks the library for this CPU.
$status = \KCTApp\wasm\KCTWasmLoader::status();
$library = array_values(array_filter(\KCTApp\wasm\KCTWasmLoader::libraryCandidates(), 'is_file'))[0] ?? '';
if (!$status->ok() || $library !== "$dir/lib/" . \KCTApp\wasm\KCTWasmLoader::arch() . '/libkct_wasm_runtime.so') {
    fail('the runtime did not load from this architecture\'s folder: ' . $status->message);
}
printf("install-zip: %s %s installed by Plugin_Upgrader and active; runtime %s\n", $data['Name'], $data['Version'], $library);
