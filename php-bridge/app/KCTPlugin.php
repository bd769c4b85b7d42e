<?php
namespace KCTApp;

use KCTApp\controllers\api\KCTZoomController;
use KCTApp\database\KCTMigrator;

/** Wires the plugin into WordPress. Cheap: no network, no core call at load time. */
final class KCTPlugin
{
    const TEXT_DOMAIN = 'kivicare-telemed-zoom';

    public static function boot(): void
    {
        add_action('plugins_loaded', [KCTMigrator::class, 'maybeMigrate'], 5);
        // Below 999: KiviCare encrypts every kivicare/v* route that exists at rest_api_init:999.
        add_action('rest_api_init', static function () {
            (new KCTZoomController())->register_routes();
        }, 20);
    }
}
