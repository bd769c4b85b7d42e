<?php

namespace KCTApp\database\migrations;

/**
 * Webhook deliveries already applied (the core's `delivery` value, kept for longer than the
 * signature's 300 s tolerance), so an exact replay of a signed delivery changes nothing; and
 * on each mapping row the time of the last Zoom event applied, so a late or replayed older
 * event does not undo a newer one. Idempotent.
 */
final class KCTMigration0003WebhookDeliveries
{
    public static function table(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'kct_zoom_webhook_deliveries';
    }

    public function up(): void
    {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $table = self::table();
        $charset = $wpdb->get_charset_collate();
        dbDelta("CREATE TABLE $table (
  delivery char(64) NOT NULL,
  received_at datetime NOT NULL,
  PRIMARY KEY  (delivery),
  KEY received_at (received_at)
) $charset;");
        $mappings = KCTMigration0001CreateMappings::table();
        $have = array_map('strtolower', (array) $wpdb->get_col("SHOW COLUMNS FROM `$mappings`"));
        if (!in_array('last_event_at', $have, true)) {
            $wpdb->query("ALTER TABLE `$mappings` ADD COLUMN `last_event_at` bigint(20) DEFAULT NULL");
        }
    }
}
