<?php

namespace KCTApp\database;

use KCTApp\database\migrations\KCTMigration0001CreateMappings;
use KCTApp\database\migrations\KCTMigration0002LifecycleColumns;
use KCTApp\database\migrations\KCTMigration0003WebhookDeliveries;
use KCTApp\database\migrations\KCTMigration0004StatusScreen;
use KCTApp\database\migrations\KCTMigration0005Visits;
use KCTApp\database\migrations\KCTMigration0006AutoloadSettings;
use KCTApp\database\migrations\KCTMigration0007WebhookRotationDate;

/**
 * Versioned migrations: each one runs once, in order, recorded in an option. Safe to run on
 * every activation and on load (it only compares a number when there is nothing to do).
 */
final class KCTMigrator
{
    public const OPTION = 'kct_zoom_db_version';

    /** @return array<int, class-string> version => migration, ascending */
    public static function migrations(): array
    {
        return [
            1 => KCTMigration0001CreateMappings::class,
            2 => KCTMigration0002LifecycleColumns::class,
            3 => KCTMigration0003WebhookDeliveries::class,
            4 => KCTMigration0004StatusScreen::class,
            5 => KCTMigration0005Visits::class,
            6 => KCTMigration0006AutoloadSettings::class,
            7 => KCTMigration0007WebhookRotationDate::class,
        ];
    }

    public static function latest(): int
    {
        return max(array_keys(self::migrations()));
    }

    /** Activation; network-wide, every site of the network gets its tables. */
    public static function activate($networkWide = false): void
    {
        if (is_multisite() && $networkWide) {
            \KCTApp\storage\KCTSite::each([self::class, 'migrate']);
            return;
        }
        self::migrate();
    }

    /** A site added to a network where the addon is network-active gets its tables at once. */
    public static function newSite(\WP_Site $site): void
    {
        if (!function_exists('is_plugin_active_for_network')) {
            require_once ABSPATH . 'wp-admin/includes/plugin.php';
        }
        if (is_plugin_active_for_network(plugin_basename(KCT_ZOOM_FILE))) {
            switch_to_blog((int) $site->blog_id);
            try {
                self::migrate();
            } finally {
                restore_current_blog();
            }
        }
    }

    public static function maybeMigrate(): void
    {
        if ((int) get_option(self::OPTION, 0) < self::latest()) {
            self::migrate();
        }
    }

    /** @return int[] the versions applied by this call */
    public static function migrate(): array
    {
        $current = (int) get_option(self::OPTION, 0);
        $applied = [];
        foreach (self::migrations() as $version => $class) {
            if ($version <= $current) {
                continue;
            }
            (new $class())->up();
            update_option(self::OPTION, $version, true);
            $applied[] = $version;
        }
        return $applied;
    }
}
