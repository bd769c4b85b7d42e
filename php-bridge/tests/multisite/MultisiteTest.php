<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\connection\KCTDepartedDoctors;
use KCTApp\database\KCTMigrator;
use KCTApp\database\KCTUninstaller;
use KCTApp\database\migrations\KCTMigration0004StatusScreen;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\storage\KCTSideDb;
use KCTApp\storage\KCTSite;

/**
 * A subdirectory network with the addon network-activated (the multisite test bed): each site
 * keeps its own settings, tables, tokens and locks, and uninstall cleans each site that opted in.
 */
final class MultisiteTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private int $second = 0;

    protected function setUp(): void
    {
        parent::setUp();
        $this->assertTrue(is_multisite(), 'run by the multisite test bed');
        $sites = get_sites(['fields' => 'ids', 'path' => '/clinic2/']);
        $this->assertCount(1, $sites, 'the test bed made /clinic2/');
        $this->second = (int) $sites[0];
    }

    private static function tableExists(string $table): bool
    {
        global $wpdb;
        return $wpdb->get_var($wpdb->prepare('SHOW TABLES LIKE %s', $table)) === $table;
    }

    private function onSecond(callable $fn)
    {
        switch_to_blog($this->second);
        try {
            return $fn();
        } finally {
            restore_current_blog();
        }
    }

    public function testNetworkActivationMadeEverySitesTablesAndANewSiteGetsThemAtOnce(): void
    {
        $this->assertTrue(is_plugin_active_for_network('kivicare-telemed-zoom/kivicare-telemed-zoom.php'));
        $seen = KCTSite::each(static function () {
            return [KCTMappingRepository::table(), self::tableExists(KCTMappingRepository::table()),
                self::tableExists(KCTMigration0004StatusScreen::usageTable()), (int) get_option(KCTMigrator::OPTION)];
        });
        $this->assertCount(2, $seen);
        $tables = [];
        foreach ($seen as [$table, $mappings, $usage, $version]) {
            $this->assertTrue($mappings, $table);
            $this->assertTrue($usage);
            $this->assertSame(KCTMigrator::latest(), $version);
            $tables[] = $table;
        }
        $this->assertCount(2, array_unique($tables), 'one mapping table per site');

        $third = wp_insert_site(['domain' => get_network()->domain, 'path' => '/clinic3/', 'title' => 'Clinic three', 'user_id' => 1]);
        $this->assertIsInt($third);
        try {
            switch_to_blog($third);
            $this->assertTrue(self::tableExists(KCTMappingRepository::table()), 'made when the site was created');
            restore_current_blog();
        } finally {
            wp_delete_site($third);
        }
    }

    public function testSettingsTokensAndRowsBelongToTheirSite(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        add_user_to_blog($this->second, $doctor, 'kiviCare_doctor'); // a doctor of both clinics
        $this->assertTrue(KCTSettings::save(['auth_type' => 'oauth', 'client_id' => 'siteOneClient01', 'client_secret' => 'siteOneSecret0123456789',
            'redirect_url' => KCTSettings::callbackUrl()]));
        KCTTokenStore::put($doctor, ['access_token' => 'site-one-access', 'refresh_token' => 'site-one-refresh', 'expires_at' => time() + 3600,
            'api_url' => 'https://api.zoom.us'], 'zoomUserSiteOne');
        $now = gmdate('Y-m-d H:i:s');
        global $wpdb;
        try {
            $this->onSecond(function () use ($doctor, $now, $wpdb) {
                $this->assertNotSame('siteOneClient01', KCTSettings::raw()['client_id'], 'site two has its own settings');
                $this->assertSame('none', KCTTokenStore::get($doctor, true)['state'], 'and no token of site one');
                $this->assertSame('not_connected', KCTTokenStore::connection($doctor));
                $this->assertSame($wpdb->get_blog_prefix() . KCTTokenStore::META, KCTSite::userKey(KCTTokenStore::META));
                KCTTokenStore::put($doctor, ['access_token' => 'site-two-access', 'refresh_token' => 'site-two-refresh', 'expires_at' => time() + 3600,
                    'api_url' => 'https://api.zoom.us'], 'zoomUserSiteTwo');
                $this->assertSame('site-two-access', KCTTokenStore::get($doctor, true)['token']['access_token']);
                $this->assertSame([$doctor], KCTTokenStore::doctorsForZoomUser('zoomUserSiteTwo'));
                $this->assertSame([], KCTTokenStore::doctorsForZoomUser('zoomUserSiteOne'), 'a deauthorization on site two touches its own doctors');
                $wpdb->insert(KCTMappingRepository::table(), ['appointment_id' => 881001, 'status' => 'active', 'correlation_ref' => 'kc-sitetwo00000000000000',
                    'zoom_id' => '85000009999', 'created_at' => $now, 'updated_at' => $now]);
                $this->assertNotNull(KCTMappingRepository::find(881001));
            });
            $this->assertSame('site-one-access', KCTTokenStore::get($doctor, true)['token']['access_token'], 'site one kept its token');
            $this->assertSame('connected', KCTTokenStore::connection($doctor));
            $this->assertNull(KCTMappingRepository::find(881001), 'site two\'s row is in site two\'s table');
        } finally {
            $this->onSecond(static function () use ($wpdb) {
                $wpdb->delete(KCTMappingRepository::table(), ['appointment_id' => 881001]);
            });
        }
    }

    public function testADoctorOfTheSecondClinicConnectsAndGetsAMeetingThere(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        add_user_to_blog($this->second, $doctor, 'kiviCare_doctor');
        $this->resetZoom();
        $this->onSecond(function () use ($doctor) {
            kct_test_create_appointments_table();
            $this->configureOAuth();
            $this->connectDoctor($doctor);
            $row = $this->ensureMeeting(['appointment_id' => 882001, 'doctor_id' => $doctor,
                'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']);
            $this->assertIsArray($row, is_wp_error($row) ? $row->get_error_message() : '');
            $this->assertSame('active', KCTMappingRepository::find(882001)['status']);
        });
        try {
            $this->assertNull(KCTMappingRepository::find(882001), 'the row is site two\'s');
            $this->assertSame('none', KCTTokenStore::get($doctor, true)['state'], 'the connection is site two\'s');
            $this->assertCount(1, self::zoomMeetings());
        } finally {
            $this->onSecond(static function () {
                KCTMappingRepository::delete(882001);
            });
        }
    }

    /**
     * The network deletes a doctor of the second clinic while a delete at Zoom is still owed
     * there: that site keeps their connection until the delete is done (no `delete_user`
     * fires for a network's deletion).
     */
    public function testANetworkDeletedDoctorsConnectionIsKeptWhereADeleteIsStillOwed(): void
    {
        require_once ABSPATH . 'wp-admin/includes/ms.php';
        $doctor = $this->makeUser('kiviCare_doctor');
        add_user_to_blog($this->second, $doctor, 'kiviCare_doctor');
        $this->resetZoom();
        try {
            $this->onSecond(function () use ($doctor) {
                kct_test_create_appointments_table();
                $this->configureOAuth();
                $this->connectDoctor($doctor);
                $row = $this->ensureMeeting(['appointment_id' => 882002, 'doctor_id' => $doctor,
                    'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']);
                $this->assertIsArray($row, is_wp_error($row) ? $row->get_error_message() : '');
                self::zoom('fault', ['kind' => 'server_error', 'count' => 1, 'path_prefix' => '/v2/meetings']);
                \KCTApp\telemed\KCTAppointmentHooks::end(882002, 'delete'); // KiviCare's cancel_meeting_by_appointment
                $this->deleteAppointment(882002);
            });
            $this->assertCount(1, self::zoomMeetings(), 'the delete failed');
            wpmu_delete_user($doctor);
            $this->assertFalse(get_userdata($doctor));
            $this->assertSame([], (array) get_option(KCTDepartedDoctors::OPTION, []), 'nothing owed on site one');
            $this->onSecond(function () use ($doctor) {
                $this->assertSame([$doctor], get_option(KCTDepartedDoctors::OPTION));
                $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state']);
                $this->runQueue();
                $this->assertCount(0, self::zoomMeetings(), 'deleted with the kept connection');
                $this->assertSame([$doctor], KCTDepartedDoctors::check());
                $this->assertSame('none', KCTTokenStore::get($doctor, true)['state']);
            });
        } finally {
            $this->onSecond(static function () {
                KCTMappingRepository::delete(882002);
                delete_option(KCTDepartedDoctors::OPTION);
            });
        }
    }

    public function testTheSideConnectionAndLocksFollowTheSite(): void
    {
        KCTSideDb::setOption('kct_zoom_site_probe', 'one');
        $this->onSecond(function () {
            $this->assertNull(KCTSideDb::getOption('kct_zoom_site_probe'), 'site two reads its own options table');
            KCTSideDb::setOption('kct_zoom_site_probe', 'two');
            wp_cache_delete('kct_zoom_site_probe', 'options');
            $this->assertSame('two', get_option('kct_zoom_site_probe'));
        });
        wp_cache_delete('kct_zoom_site_probe', 'options');
        $this->assertSame('one', get_option('kct_zoom_site_probe'));
        delete_option('kct_zoom_site_probe');
        $this->onSecond(static function () {
            delete_option('kct_zoom_site_probe');
        });

        // The same lock name on two sites is two locks: holding site one's blocks no one on site two.
        $one = KCTSideDb::lockKey('refresh:7');
        $two = $this->onSecond(static function () {
            return KCTSideDb::lockKey('refresh:7');
        });
        $this->assertNotSame($one, $two);
        $this->assertTrue(KCTSideDb::lock('refresh:7', 0));
        $other = new \wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
        try {
            $this->assertSame('0', (string) $other->get_var($other->prepare('SELECT GET_LOCK(%s, 0)', $one)), 'site one\'s lock is held');
            $this->assertSame('1', (string) $other->get_var($other->prepare('SELECT GET_LOCK(%s, 0)', $two)), 'site two\'s is free');
        } finally {
            $other->get_var($other->prepare('SELECT RELEASE_LOCK(%s)', $two));
            $other->close();
            KCTSideDb::unlock('refresh:7');
        }
    }

    public function testUninstallCleansEachSiteThatOptedIn(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        $token = ['access_token' => 'a', 'refresh_token' => 'r', 'expires_at' => time() + 3600, 'api_url' => 'https://api.zoom.us'];
        KCTTokenStore::put($doctor, $token);
        $this->onSecond(static function () use ($doctor, $token) {
            KCTTokenStore::put($doctor, $token);
        });
        update_option(KCTUninstaller::OPT_IN, false);
        $this->onSecond(static function () {
            update_option(KCTUninstaller::OPT_IN, true);
        });
        // Each site's compiled-core cache (its own uploads): removed whatever its opt-in.
        $cacheOf = static function (): string {
            return rtrim((string) wp_upload_dir(null, false)['basedir'], '/') . '/kct-zoom-cache';
        };
        $caches = [$cacheOf()];
        $this->onSecond(static function () use ($cacheOf, &$caches) {
            $caches[] = $cacheOf();
        });
        $this->assertNotSame($caches[0], $caches[1], 'each site has its own uploads');
        foreach ($caches as $dir) {
            wp_mkdir_p($dir);
            file_put_contents("$dir/kct-core-0123.cwasm", 'x');
            file_put_contents("$dir/index.php", 'x');
        }
        try {
            $this->assertTrue(KCTUninstaller::run());
            foreach ($caches as $dir) {
                $this->assertDirectoryDoesNotExist($dir, 'the compiled-core cache is gone on every site');
            }
            wp_cache_flush();
            $this->assertTrue(self::tableExists(KCTMappingRepository::table()), 'site one did not opt in: kept');
            $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state']);
            $this->onSecond(function () use ($doctor) {
                $this->assertFalse(self::tableExists(KCTMappingRepository::table()), 'site two opted in: its tables are gone');
                $this->assertFalse(self::tableExists(KCTMigration0004StatusScreen::usageTable()));
                $this->assertFalse(get_option(KCTMigrator::OPTION, false));
                $this->assertSame('', (string) get_user_meta($doctor, KCTSite::userKey(KCTTokenStore::META), true), 'and its tokens');
            });
        } finally {
            $this->onSecond(static function () {
                KCTMigrator::migrate();
            });
        }
    }
}
