<?php

namespace KCTApp\database\migrations;

use KCTApp\settings\KCTSettings;

/**
 * Earlier versions stored when the previous webhook secret stopped verifying (the rotation
 * plus the day it was given, decided in PHP); the core now decides how long it verifies, and
 * the settings keep only when the rotation happened. A rotation in progress keeps its day.
 * Idempotent; settings without the old field are left alone.
 */
final class KCTMigration0007WebhookRotationDate
{
    /** What earlier versions added to the rotation's time. */
    private const OLD_GRACE = DAY_IN_SECONDS;

    public function up(): void
    {
        $stored = get_option(KCTSettings::OPTION, null);
        if (!is_array($stored) || !array_key_exists('webhook_secret_previous_until', $stored)) {
            return;
        }
        $until = (int) $stored['webhook_secret_previous_until'];
        unset($stored['webhook_secret_previous_until']);
        if ($until > 0 && empty($stored['webhook_secret_rotated_at'])) {
            $stored['webhook_secret_rotated_at'] = $until - self::OLD_GRACE;
        }
        update_option(KCTSettings::OPTION, $stored);
    }
}
