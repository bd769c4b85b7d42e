<?php

namespace KCTApp\database\migrations;

/**
 * What the administrators' status screen shows that was not kept before: each doctor's use of
 * Zoom's daily create-and-update cap (counted per UTC day, one row per doctor and day), and on
 * each webhook delivery the event and the meeting it named. Idempotent.
 */
final class KCTMigration0004StatusScreen
{
    public static function usageTable(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'kct_zoom_host_usage';
    }

    public function up(): void
    {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $table = self::usageTable();
        $charset = $wpdb->get_charset_collate();
        dbDelta("CREATE TABLE $table (
  doctor_id bigint(20) unsigned NOT NULL,
  day date NOT NULL,
  calls int(10) unsigned NOT NULL DEFAULT 0,
  daily_cap int(10) unsigned NOT NULL,
  PRIMARY KEY  (doctor_id,day)
) $charset;");
        $deliveries = KCTMigration0003WebhookDeliveries::table();
        $have = array_map('strtolower', (array) $wpdb->get_col("SHOW COLUMNS FROM `$deliveries`"));
        if (!in_array('event', $have, true)) {
            $wpdb->query("ALTER TABLE `$deliveries` ADD COLUMN `event` varchar(64) NOT NULL DEFAULT '', ADD COLUMN `meeting_id` varchar(32) NOT NULL DEFAULT ''");
        }
    }
}
