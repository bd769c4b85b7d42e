<?php

/**
 * Plugin Name:       KiviCare Telemed – Zoom
 * Plugin URI:        https://example.org/kivicare-telemed-zoom
 * Description:       Zoom telemedicine for KiviCare: one Zoom meeting per telemedicine appointment, a fresh Start link for the doctor and a Join link for the patient. Per-doctor OAuth or a clinic-wide Server-to-Server app. Decisions run in a WebAssembly core.
 * Version:           4.0.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            KCT contributors
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       kivicare-telemed-zoom
 * Domain Path:       /languages
 */

defined('ABSPATH') || exit;

// KiviCare core treats the telemed addon as active when this is defined (4.0.0 or later).
if (!defined('KIVICARE_TELEMED_VERSION')) {
    define('KIVICARE_TELEMED_VERSION', '4.0.0');
}
define('KCT_ZOOM_VERSION', '4.0.0');
define('KCT_ZOOM_FILE', __FILE__);

require_once __DIR__ . '/app/autoload.php';

register_activation_hook(__FILE__, ['KCTApp\\database\\KCTMigrator', 'activate']);
KCTApp\KCTPlugin::boot();
