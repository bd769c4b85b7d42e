<?php

namespace KCTApp\database\migrations;

/**
 * The visit beside each mapping row (issue 16): who joined and left when, the patient
 * waiting, the time together and the outcome (checked in, checked out, no-show), as
 * `visit.apply` decides them from Zoom's events. Times are Unix seconds. And on the mapping
 * row, the patient's registration (registrant id, their own join link, the email it was
 * made for). Idempotent.
 */
final class KCTMigration0005Visits
{
    public static function table(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'kct_zoom_visits';
    }

    public function up(): void
    {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $table = self::table();
        $charset = $wpdb->get_charset_collate();
        dbDelta("CREATE TABLE $table (
  appointment_id bigint(20) unsigned NOT NULL,
  zoom_id varchar(32) NOT NULL DEFAULT '',
  started_at bigint(20) DEFAULT NULL,
  ended_at bigint(20) DEFAULT NULL,
  patient_joined_at bigint(20) DEFAULT NULL,
  patient_left_at bigint(20) DEFAULT NULL,
  patient_in tinyint(1) NOT NULL DEFAULT 0,
  patient_seen_at bigint(20) DEFAULT NULL,
  patient_known_by varchar(16) DEFAULT NULL,
  doctor_joined_at bigint(20) DEFAULT NULL,
  doctor_left_at bigint(20) DEFAULT NULL,
  doctor_in tinyint(1) NOT NULL DEFAULT 0,
  doctor_seen_at bigint(20) DEFAULT NULL,
  waiting_since bigint(20) DEFAULT NULL,
  together_seconds bigint(20) DEFAULT NULL,
  outcome varchar(16) DEFAULT NULL,
  version bigint(20) unsigned NOT NULL DEFAULT 0,
  updated_at datetime NOT NULL,
  PRIMARY KEY  (appointment_id),
  KEY outcome (outcome),
  KEY waiting_since (waiting_since)
) $charset;");
        $mappings = KCTMigration0001CreateMappings::table();
        $have = array_map('strtolower', (array) $wpdb->get_col("SHOW COLUMNS FROM `$mappings`"));
        if (!in_array('registrant_id', $have, true)) {
            $wpdb->query("ALTER TABLE `$mappings` ADD COLUMN `registrant_id` varchar(64) DEFAULT NULL,
                ADD COLUMN `patient_join_url` text DEFAULT NULL, ADD COLUMN `registered_email` varchar(191) DEFAULT NULL");
        }
    }
}
