<?php

namespace KCTApp;

use KCTApp\admin\KCTSettingsPages;
use KCTApp\controllers\api\KCTZoomController;
use KCTApp\database\KCTMigrator;
use KCTApp\telemed\KCTAppointmentHooks;
use KCTApp\telemed\KCTAppointmentLinks;

/** Wires the plugin into WordPress. Cheap: no network, no core call at load time. */
final class KCTPlugin
{
    public const TEXT_DOMAIN = 'kivicare-telemed-zoom';

    /** WordPress.org language packs first (wp-content/languages/plugins), then languages/. */
    public static function loadTextdomain(): bool
    {
        return load_plugin_textdomain('kivicare-telemed-zoom', false, dirname(plugin_basename(KCT_ZOOM_FILE)) . '/languages');
    }

    public static function boot(): void
    {
        add_action('plugins_loaded', [KCTMigrator::class, 'maybeMigrate'], 5);
        // After WordPress made the new site's own tables (wp_initialize_site at 10).
        add_action('wp_initialize_site', [KCTMigrator::class, 'newSite'], 20);
        // Before KiviCare's factory reads kc_telemed_providers on init:10.
        KCTAppointmentHooks::register();
        KCTAppointmentLinks::register();
        \KCTApp\connection\KCTDepartedDoctors::register();
        \KCTApp\privacy\KCTPrivacy::register();
        if (is_admin()) {
            KCTSettingsPages::register();
            \KCTApp\admin\KCTStatusScreen::register();
            \KCTApp\visits\KCTWaitingNotice::register();
        }
        // Site Health also asks over REST (where is_admin() is false).
        \KCTApp\diagnostics\KCTDiagnostics::register();
        add_action('init', static function () {
            self::loadTextdomain();
            if (!wp_next_scheduled('kct_zoom_daily')) {
                wp_schedule_event(time() + HOUR_IN_SECONDS, 'daily', 'kct_zoom_daily');
            }
        });
        // Below 999: KiviCare encrypts every kivicare/v* route that exists at rest_api_init:999.
        add_action('rest_api_init', static function () {
            (new KCTZoomController(KCTZoomController::KIVICARE_NAMESPACE))->register_routes();
            (new KCTZoomController(KCTZoomController::OWN_NAMESPACE))->register_routes();
        }, 20);
    }
}
