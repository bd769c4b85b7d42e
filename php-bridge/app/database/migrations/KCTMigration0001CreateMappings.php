<?php

namespace KCTApp\database\migrations;

/**
 * The mapping table KiviCare core reads (`{prefix}kc_appointment_zoom_mappings`, CONTRACT §4)
 * plus what the addon needs to keep one meeting per appointment: status, correlation
 * reference, host, doctor and patient, the start link's age and the last error.
 * `start_url` holds ciphertext: the host link carries the doctor's Zoom credential.
 */
final class KCTMigration0001CreateMappings
{
    public static function table(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'kc_appointment_zoom_mappings';
    }

    public function up(): void
    {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $table = self::table();
        $charset = $wpdb->get_charset_collate();
        // dbDelta's format: two spaces before PRIMARY KEY, one field per line.
        dbDelta("CREATE TABLE $table (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  appointment_id bigint(20) unsigned NOT NULL,
  doctor_id bigint(20) unsigned DEFAULT NULL,
  patient_id bigint(20) unsigned DEFAULT NULL,
  host varchar(191) DEFAULT NULL,
  status varchar(20) NOT NULL DEFAULT 'pending',
  correlation_ref varchar(64) NOT NULL,
  zoom_id varchar(64) DEFAULT NULL,
  join_url text DEFAULT NULL,
  start_url text DEFAULT NULL,
  password varchar(64) DEFAULT NULL,
  start_time datetime DEFAULT NULL,
  duration int(11) DEFAULT NULL,
  timezone varchar(64) DEFAULT NULL,
  meeting_state varchar(20) DEFAULT NULL,
  start_url_fetched_at datetime DEFAULT NULL,
  last_error text DEFAULT NULL,
  created_at datetime NOT NULL,
  updated_at datetime NOT NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY appointment_id (appointment_id),
  KEY doctor_id (doctor_id),
  KEY patient_id (patient_id),
  KEY zoom_id (zoom_id)
) $charset;");
    }
}
