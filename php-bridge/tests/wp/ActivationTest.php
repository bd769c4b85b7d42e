<?php
use KCTApp\database\KCTMigrator;
use KCTApp\database\migrations\KCTMigration0001CreateMappings;

/** The plugin activates in a real WordPress, its table exists, and migrations are idempotent. */
final class ActivationTest extends KCTHttpTestCase
{
    public function testPluginIsActiveAndDeclaresTheTelemedAddon(): void
    {
        $this->assertTrue(is_plugin_active('kivicare-telemed-zoom/kivicare-telemed-zoom.php'));
        $this->assertTrue(defined('KIVICARE_TELEMED_VERSION'));
        $this->assertTrue(version_compare(KIVICARE_TELEMED_VERSION, '4.0.0', '>='));
        $this->assertSame(KCTMigrator::latest(), (int) get_option(KCTMigrator::OPTION));
    }

    public function testMappingTableHasTheContractColumns(): void
    {
        global $wpdb;
        $table = KCTMigration0001CreateMappings::table();
        $this->assertSame($wpdb->prefix . 'kc_appointment_zoom_mappings', $table);
        $cols = $wpdb->get_col("SHOW COLUMNS FROM $table");
        foreach (['id', 'appointment_id', 'zoom_id', 'start_url', 'join_url', 'password', 'doctor_id', 'patient_id',
                  'created_at', 'updated_at', 'status', 'host', 'correlation_ref', 'start_url_fetched_at', 'last_error'] as $c) {
            $this->assertContains($c, $cols);
        }
        $unique = $wpdb->get_row("SHOW INDEX FROM $table WHERE Key_name = 'appointment_id'");
        $this->assertSame('0', (string) $unique->Non_unique, 'one mapping row per appointment');
    }

    public function testMigrationsAreIdempotentAndKeepRows(): void
    {
        global $wpdb;
        $table = KCTMigration0001CreateMappings::table();
        $now = current_time('mysql', true);
        $wpdb->insert($table, ['appointment_id' => 990001, 'status' => 'active', 'correlation_ref' => 'kc-keepme0000000000000', 'zoom_id' => '85000000001', 'created_at' => $now, 'updated_at' => $now]);
        try {
            $this->assertSame([], KCTMigrator::migrate(), 'nothing to do when current');
            update_option(KCTMigrator::OPTION, 0);
            $this->assertSame(range(1, KCTMigrator::latest()), KCTMigrator::migrate(), 're-running from scratch');
            KCTMigrator::activate();
            $this->assertSame('85000000001', $wpdb->get_var($wpdb->prepare("SELECT zoom_id FROM $table WHERE appointment_id = %d", 990001)));
            $this->assertSame(KCTMigrator::latest(), (int) get_option(KCTMigrator::OPTION));
        } finally {
            $wpdb->delete($table, ['appointment_id' => 990001]);
        }
    }

    /** Migration 2 completes a table that lacks some lifecycle columns, and keeps the rows. */
    public function testLifecycleColumnsAreAddedIdempotently(): void
    {
        global $wpdb;
        $table = KCTMigration0001CreateMappings::table();
        $now = current_time('mysql', true);
        $wpdb->insert($table, ['appointment_id' => 990002, 'status' => 'active', 'correlation_ref' => 'kc-keepme0000000000001', 'zoom_id' => '85000000002', 'created_at' => $now, 'updated_at' => $now]);
        try {
            $wpdb->query("ALTER TABLE $table DROP COLUMN needs_announce, DROP COLUMN version");
            update_option(KCTMigrator::OPTION, 1);
            $this->assertSame(range(2, KCTMigrator::latest()), KCTMigrator::migrate());
            $cols = $wpdb->get_col("SHOW COLUMNS FROM $table");
            foreach (['version', 'intent', 'attempt', 'next_attempt_at', 'work_since', 'unconfirmed', 'claimed_until', 'needs_announce'] as $c) {
                $this->assertContains($c, $cols);
            }
            update_option(KCTMigrator::OPTION, 1);
            $this->assertSame(range(2, KCTMigrator::latest()), KCTMigrator::migrate(), 'a second run changes nothing and does not fail');
            $this->assertSame('0', $wpdb->get_var($wpdb->prepare("SELECT version FROM $table WHERE appointment_id = %d", 990002)));
            $this->assertSame('85000000002', $wpdb->get_var($wpdb->prepare("SELECT zoom_id FROM $table WHERE appointment_id = %d", 990002)));
        } finally {
            $wpdb->delete($table, ['appointment_id' => 990002]);
            update_option(KCTMigrator::OPTION, KCTMigrator::latest());
        }
    }

    /**
     * Issue 14: the settings KiviCare core reads for every provider it builds are autoloaded,
     * so a request reads them with WordPress's other options, not with a query of its own;
     * migration 6 turns it on for settings saved before.
     */
    public function testTheSettingsAreReadWithWordPresssOtherOptions(): void
    {
        global $wpdb;
        [$settings, $flag] = \KCTApp\settings\KCTSettings::autoloadedOptions();
        update_option($settings, ['auth_type' => 'oauth', 'enableCal' => 'Yes'] + (array) get_option($settings, []), false);
        update_option($flag, 'No', false);
        $wpdb->query($wpdb->prepare("UPDATE {$wpdb->options} SET autoload = 'no' WHERE option_name IN (%s, %s)", $settings, $flag));
        (new \KCTApp\database\migrations\KCTMigration0006AutoloadSettings())->up();
        $this->assertSame(['yes', 'yes'], $wpdb->get_col($wpdb->prepare(
            "SELECT autoload FROM {$wpdb->options} WHERE option_name IN (%s, %s)",
            $settings,
            $flag
        )));
        // As a request starts: the autoloaded options in memory, and nothing else.
        wp_cache_delete($settings, 'options');
        wp_cache_delete($flag, 'options');
        wp_load_alloptions();
        $before = $wpdb->num_queries;
        $this->assertSame('oauth', get_option($settings)['auth_type']);
        $this->assertSame('No', get_option($flag));
        $this->assertSame(0, $wpdb->num_queries - $before);
    }

    public function testSettingsRouteAnswersOverHttpOnlyToAdministrators(): void
    {
        [$status, $body] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed');
        $this->assertSame(401, $status);
        $this->assertSame('kct_forbidden', $body['code']);

        $subscriber = $this->credentials($this->makeUser('subscriber'));
        [$status] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed', null, $subscriber);
        $this->assertSame(403, $status);

        $admin = $this->credentials($this->makeUser('administrator'));
        [$status, $body] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed', null, $admin);
        $this->assertSame(200, $status);
        $this->assertTrue($body['status']);
        $this->assertSame(getenv('KCT_WP_URL') . '/wp-json/kivicare/v1/settings/zoom-telemed/callback', $body['data']['expected_redirect_url']);
    }
}
