<?php

namespace KCTApp\database\migrations;

use KCTApp\settings\KCTSettings;

/**
 * The settings read on every request that builds the telemed provider (KiviCare core reads
 * them in the provider's constructor, the addon for every Zoom call) made autoloaded:
 * WordPress then loads them with its other options instead of asking for each, once per
 * request. The secrets in them are sealed. Idempotent; options not saved yet are left alone.
 */
final class KCTMigration0006AutoloadSettings
{
    public function up(): void
    {
        global $wpdb;
        $names = KCTSettings::autoloadedOptions();
        $marks = implode(', ', array_fill(0, count($names), '%s'));
        $wpdb->query($wpdb->prepare("UPDATE {$wpdb->options} SET autoload = 'yes' WHERE option_name IN ($marks)", $names));
        wp_cache_delete('alloptions', 'options');
        wp_cache_delete('notoptions', 'options');
        foreach ($names as $name) {
            wp_cache_delete($name, 'options');
        }
    }
}
