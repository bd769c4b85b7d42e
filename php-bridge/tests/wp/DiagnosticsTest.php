<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\diagnostics\KCTDiagnostics;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\zoom\KCTCoreAccess;

/** Tools → Site Health: each check finds what is wrong here and says the exact fix. */
final class DiagnosticsTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private static function health(string $id): array
    {
        $tests = apply_filters('site_status_tests', ['direct' => [], 'async' => []]);
        return call_user_func($tests['direct'][$id]['test']);
    }

    public function testEveryCheckIsInSiteHealthAndTheRuntimeRuns(): void
    {
        $tests = apply_filters('site_status_tests', ['direct' => [], 'async' => []]);
        foreach (array_keys(KCTDiagnostics::checks()) as $id) {
            $this->assertArrayHasKey($id, $tests['direct']);
            $r = self::health($id);
            $this->assertContains($r['status'], ['good', 'recommended', 'critical'], $id);
            $this->assertSame($id, $r['test']);
        }
        $this->assertSame('good', self::health('kct_zoom_runtime')['status']);
    }

    /**
     * Site Health → Info, which an administrator copies into a support request: the addon's
     * section, with counts of this site's meetings and nothing secret.
     */
    public function testSiteHealthInfoHasTheAddonsSectionWithCountsAndNoSecret(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 661, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $info = apply_filters('debug_information', []);
        $this->assertArrayHasKey('kivicare-telemed-zoom', $info);
        $fields = array_column($info['kivicare-telemed-zoom']['fields'], 'value', 'label');
        $this->assertSame(KIVICARE_TELEMED_VERSION, $fields['Version']);
        $this->assertSame('The Zoom core runs in this PHP process.', $fields['Zoom core']);
        $this->assertSame('OAuth: each doctor connects their own Zoom account', $fields['Zoom app']);
        $this->assertGreaterThanOrEqual(1, $fields['Upcoming meetings']);
        $this->assertSame(0, $fields['Meetings with work owed to Zoom']);
        $this->assertSame('WP-Cron', $fields['Retries run by']);
        $this->assertStringNotContainsString(self::$clientSecret, json_encode($info['kivicare-telemed-zoom']));
        $this->assertStringNotContainsString('http', json_encode($info['kivicare-telemed-zoom']), 'no link');
    }

    /** A doctor's consent shows what the clinic's OAuth app lacks: the doctor and Site Health say which scopes. */
    public function testADoctorsConnectionShowsTheScopesTheOAuthAppLacks(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        self::zoom('app', ['client_id' => self::$clientId, 'client_secret' => self::$clientSecret, 'redirect_uri' => KCTSettings::callbackUrl(),
            'scopes' => 'meeting:write:meeting meeting:read:meeting user:read:user']);
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $r = self::health('kct_zoom_credentials');
        $this->assertSame('critical', $r['status']);
        $this->assertStringContainsString('meeting:read:list_meetings', $r['description']);
        $this->assertStringContainsString('each doctor then connects Zoom again', $r['description']);
        $this->actAs($doctor);
        $_GET['kct_zoom'] = 'connected';
        ob_start();
        \KCTApp\admin\KCTSettingsPages::renderDoctor();
        $page = (string) ob_get_clean();
        unset($_GET['kct_zoom']);
        $this->assertStringContainsString('notice-warning', $page);
        $this->assertStringContainsString('meeting:update:meeting', $page);
        // Saving the OAuth settings unchanged keeps the finding: the doctors' tokens still lack them.
        $this->assertTrue(KCTSettings::save(['auth_type' => 'oauth']));
        $this->assertSame('critical', self::health('kct_zoom_credentials')['status']);

        // The app gets its scopes and the doctor connects again: all is well.
        self::zoom('app', ['client_id' => self::$clientId, 'client_secret' => self::$clientSecret, 'redirect_uri' => KCTSettings::callbackUrl()]);
        $this->connectDoctor($doctor);
        $this->assertSame('good', self::health('kct_zoom_credentials')['status']);
    }

    public function testCredentialsNotSetUpThenGoodThenUndecryptable(): void
    {
        update_option(KCTSettings::OPTION, KCTSettings::defaults());
        $this->assertSame('recommended', self::health('kct_zoom_credentials')['status']);
        $this->configureOAuth();
        $this->assertSame('good', self::health('kct_zoom_credentials')['status']);
        $stored = get_option(KCTSettings::OPTION);
        $stored['client_secret'] = 'kct1:' . base64_encode(random_bytes(60)); // another key's ciphertext
        update_option(KCTSettings::OPTION, $stored);
        $r = self::health('kct_zoom_credentials');
        $this->assertSame('critical', $r['status']);
        $this->assertStringContainsString('enter the client secret again', $r['description']);
        $this->actAs($this->makeUser('administrator'));
        ob_start();
        KCTDiagnostics::adminNotice();
        $notice = (string) ob_get_clean();
        $this->assertStringContainsString('cannot be decrypted', $notice, 'administrators are told on every admin page');
        $this->assertStringNotContainsString('kct1:', $notice);
    }

    public function testTheQueueAndTheDoctorsChecksCountWhatIsWrong(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertSame('good', self::health('kct_zoom_queue')['status']);
        $doctor = $this->makeUser('kiviCare_doctor', ['display_name' => 'Dr. Broken Link']);
        self::zoom('fault', ['kind' => 'server_error', 'count' => 20, 'path_prefix' => '/v2/users']);
        $this->connectDoctor($doctor);
        $this->assertInstanceOf(\WP_Error::class, $this->ensureMeeting(['appointment_id' => 950, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $row = KCTMappingRepository::find(950);
        $row['next_attempt_at'] = time() - 3600;
        $this->assertTrue(KCTMappingRepository::compareAndSwap($row, $row['version']));
        $r = self::health('kct_zoom_queue');
        $this->assertSame('critical', $r['status'], 'a retry an hour late: the queue is not running');
        $this->assertStringContainsString('wp-cron.php', $r['description']);
        $row = KCTMappingRepository::find(950);
        $row['intent'] = null;
        $row['status'] = 'failed';
        $this->assertTrue(KCTMappingRepository::compareAndSwap($row, $row['version']));
        $this->assertStringContainsString('1 upcoming appointment has no meeting', self::health('kct_zoom_queue')['description']);
        $this->assertStringContainsString('Retry now', self::health('kct_zoom_queue')['description'], 'the fix names the screen that retries');

        $this->assertSame('good', self::health('kct_zoom_doctors')['status']);
        KCTTokenStore::change($doctor, 'reauthorize'); // as a refresh Zoom refused does
        $r = self::health('kct_zoom_doctors');
        $this->assertSame('recommended', $r['status']);
        $this->assertStringContainsString('Dr. Broken Link', $r['description']);
    }

    /**
     * Found in Site Health on a new install: the reconcile, first due an hour after
     * activation, was reported as "has not run lately" with a fix for a cron that worked.
     */
    public function testANewInstallsFirstReconcileIsScheduledNotLate(): void
    {
        delete_option(\KCTApp\meetings\KCTReconcile::LAST);
        wp_clear_scheduled_hook('kct_zoom_daily');
        wp_schedule_event(time() + HOUR_IN_SECONDS, 'daily', 'kct_zoom_daily');
        $r = self::health('kct_zoom_reconcile');
        $this->assertSame('good', $r['status']);
        $this->assertStringContainsString('is scheduled', $r['label']);
        // The first run two hours late: WordPress's scheduled tasks are not running.
        wp_clear_scheduled_hook('kct_zoom_daily');
        wp_schedule_event(time() - 2 * HOUR_IN_SECONDS, 'daily', 'kct_zoom_daily');
        $this->assertSame('recommended', self::health('kct_zoom_reconcile')['status']);
        wp_clear_scheduled_hook('kct_zoom_daily');
        $this->assertSame('recommended', self::health('kct_zoom_reconcile')['status'], 'not scheduled at all');
        // A run three days ago, with the next one scheduled: late all the same.
        update_option(\KCTApp\meetings\KCTReconcile::LAST, ['at' => time() - 3 * DAY_IN_SECONDS, 'failed' => 0]);
        wp_schedule_event(time() + HOUR_IN_SECONDS, 'daily', 'kct_zoom_daily');
        $this->assertSame('recommended', self::health('kct_zoom_reconcile')['status']);
    }

    /** Issue 14: with no failure recorded, loading the core asks the database nothing. */
    public function testALoadedCoreAsksTheDatabaseNothing(): void
    {
        global $wpdb;
        self::forgetCore();
        // As a request starts: the autoloaded options in memory, nothing known to be absent.
        wp_load_alloptions();
        wp_cache_delete('notoptions', 'options');
        $before = $wpdb->num_queries;
        $seen = [];
        $log = static function (string $q) use (&$seen): string {
            $seen[] = $q . ' <- ' . wp_debug_backtrace_summary();
            return $q;
        };
        add_filter('query', $log);
        $this->assertNotInstanceOf(\WP_Error::class, KCTCoreAccess::core());
        remove_filter('query', $log);
        $this->assertSame(0, $wpdb->num_queries - $before, implode("\n", $seen));
    }

    public function testARuntimeFailureIsShownWithItsFixAndClearsOnceItRuns(): void
    {
        self::withoutRuntime(function () {
            $this->assertInstanceOf(\WP_Error::class, KCTCoreAccess::core());
            $this->actAs($this->makeUser('administrator'));
            ob_start();
            KCTDiagnostics::adminNotice();
            $notice = (string) ob_get_clean();
            $this->assertStringContainsString('cannot run', $notice);
            $this->assertStringContainsString('KCT_WASM_CORE', $notice, 'the exact fix');
            $this->assertSame('critical', self::health('kct_zoom_runtime')['status']);
        });
        $this->assertNotInstanceOf(\WP_Error::class, KCTCoreAccess::core(), 'loads again');
        ob_start();
        KCTDiagnostics::adminNotice();
        $this->assertStringNotContainsString('cannot run', (string) ob_get_clean());
    }
}
