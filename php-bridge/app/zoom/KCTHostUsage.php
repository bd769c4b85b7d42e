<?php

namespace KCTApp\zoom;

use KCTApp\database\migrations\KCTMigration0004StatusScreen;

/**
 * Each doctor's use of Zoom's per-host daily cap on meeting creates and updates (the core
 * names the calls that count and the cap), counted per UTC day in one atomic upsert.
 */
final class KCTHostUsage
{
    public static function count(int $doctorId, int $cap, int $now): void
    {
        global $wpdb;
        $t = KCTMigration0004StatusScreen::usageTable();
        $wpdb->query($wpdb->prepare(
            "INSERT INTO $t (doctor_id, day, calls, daily_cap) VALUES (%d, %s, 1, %d)
             ON DUPLICATE KEY UPDATE calls = calls + 1, daily_cap = VALUES(daily_cap)",
            $doctorId,
            gmdate('Y-m-d', $now),
            $cap
        ));
    }

    /** @return array<int, array{calls: int, daily_cap: int}> today's use (UTC day), by doctor */
    public static function today(int $now): array
    {
        global $wpdb;
        $t = KCTMigration0004StatusScreen::usageTable();
        $out = [];
        $rows = (array) $wpdb->get_results($wpdb->prepare(
            "SELECT doctor_id, calls, daily_cap FROM $t WHERE day = %s",
            gmdate('Y-m-d', $now)
        ), ARRAY_A);
        foreach ($rows as $r) {
            $out[(int) $r['doctor_id']] = ['calls' => (int) $r['calls'], 'daily_cap' => (int) $r['daily_cap']];
        }
        return $out;
    }

    /** Days before yesterday are of no use to anyone: the nightly run drops them. */
    public static function prune(int $now): void
    {
        global $wpdb;
        $t = KCTMigration0004StatusScreen::usageTable();
        $wpdb->query($wpdb->prepare("DELETE FROM $t WHERE day < %s", gmdate('Y-m-d', $now - DAY_IN_SECONDS)));
    }
}
