<?php

namespace KCTApp\database;

use KCTApp\database\migrations\KCTMigration0001CreateMappings;

/** What uninstall removes: the addon's data only on the owner's opt-in, its disk cache always. */
final class KCTUninstaller
{
    public const OPT_IN = 'kct_zoom_delete_data_on_uninstall';

    public static function optedIn(): bool
    {
        return (defined('KCT_ZOOM_DELETE_DATA') && KCT_ZOOM_DELETE_DATA) || (bool) get_option(self::OPT_IN, false);
    }

    /**
     * Every site of a network decides for its own data (its own opt-in).
     *
     * @return bool whether anything was deleted
     */
    public static function run(): bool
    {
        // The compiled core kept on disk (wasmtime) is no one's data: it goes whatever the
        // opt-in says, from every site's uploads.
        \KCTApp\storage\KCTSite::each([\KCTApp\wasm\KCTWasmLoader::class, 'removeDiskCache']);
        return in_array(true, \KCTApp\storage\KCTSite::each([self::class, 'runForSite']), true);
    }

    /** @return bool whether this site's data was deleted */
    public static function runForSite(): bool
    {
        if (!self::optedIn()) {
            return false;
        }
        global $wpdb;
        $wpdb->query('DROP TABLE IF EXISTS ' . KCTMigration0001CreateMappings::table());
        $wpdb->query('DROP TABLE IF EXISTS ' . \KCTApp\database\migrations\KCTMigration0003WebhookDeliveries::table());
        $wpdb->query('DROP TABLE IF EXISTS ' . \KCTApp\database\migrations\KCTMigration0004StatusScreen::usageTable());
        $wpdb->query('DROP TABLE IF EXISTS ' . \KCTApp\database\migrations\KCTMigration0005Visits::table());
        foreach (['kiviCare_zoom_telemed_setting', 'kiviCare_zoom_telemed_server_to_server_oauth_status', KCTMigrator::OPTION, self::OPT_IN] as $o) {
            delete_option($o);
        }
        $wpdb->query("DELETE FROM {$wpdb->options} WHERE option_name LIKE 'kct\\_zoom\\_%'");
        // This site's user meta keys (KCTSite::userKey); KiviCare's own flags live on the main site.
        $mine = $wpdb->esc_like(\KCTApp\storage\KCTSite::userKey('kct_zoom_')) . '%';
        if (is_main_site()) {
            $wpdb->query($wpdb->prepare("DELETE FROM {$wpdb->usermeta} WHERE meta_key LIKE %s OR meta_key IN ('kiviCare_zoom_telemed_connect', 'zoom_server_to_server_oauth_config_data')", $mine));
        } else {
            $wpdb->query($wpdb->prepare("DELETE FROM {$wpdb->usermeta} WHERE meta_key LIKE %s", $mine));
        }
        wp_clear_scheduled_hook('kct_zoom_daily');
        wp_unschedule_hook('kct_zoom_retry');
        wp_unschedule_hook(\KCTApp\meetings\KCTQueue::HOOK);
        wp_unschedule_hook(\KCTApp\meetings\KCTQueue::SWEEP_HOOK);
        if (function_exists('as_unschedule_all_actions')) {
            as_unschedule_all_actions('', [], \KCTApp\meetings\KCTQueue::GROUP);
        }
        wp_cache_flush();
        return true;
    }
}
