<?php

namespace KCTApp\database\migrations;

/**
 * What the core's lifecycle step keeps on a mapping row: a version for compare-and-swap
 * writes, the work still owed (intent, attempt, next attempt, since when), whether a create
 * may have reached Zoom unaccounted for, a worker's claim, and a pending announcement.
 * Idempotent: each column is added only when missing, so a half-run migration completes.
 */
final class KCTMigration0002LifecycleColumns
{
    public const COLUMNS = [
        'version' => 'bigint(20) unsigned NOT NULL DEFAULT 0',
        'intent' => 'varchar(16) DEFAULT NULL',
        'attempt' => 'smallint(5) unsigned NOT NULL DEFAULT 0',
        'next_attempt_at' => 'datetime DEFAULT NULL',
        'work_since' => 'datetime DEFAULT NULL',
        'unconfirmed' => 'tinyint(1) NOT NULL DEFAULT 0',
        'claimed_until' => 'datetime DEFAULT NULL',
        'needs_announce' => 'tinyint(1) NOT NULL DEFAULT 0',
    ];

    public function up(): void
    {
        global $wpdb;
        $table = KCTMigration0001CreateMappings::table();
        $have = array_map('strtolower', (array) $wpdb->get_col("SHOW COLUMNS FROM `$table`"));
        foreach (self::COLUMNS as $name => $definition) {
            if (!in_array($name, $have, true)) {
                $wpdb->query("ALTER TABLE `$table` ADD COLUMN `$name` $definition");
            }
        }
        $indexes = array_map('strtolower', (array) $wpdb->get_col("SHOW INDEX FROM `$table`", 2));
        if (!in_array('next_attempt_at', $indexes, true)) {
            $wpdb->query("ALTER TABLE `$table` ADD KEY `next_attempt_at` (`next_attempt_at`)");
        }
    }
}
