<?php
use KCTApp\settings\KCTSettings;

/**
 * Issue 14: where Zoom is not involved, the addon costs nothing: a request that touches no
 * appointment and no Zoom screen reaches neither the FFI library nor the core (the test bed's
 * `?kct_probe=` records what each request did).
 */
final class ZeroCostTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;

    private static function probed(string $id): string
    {
        wp_cache_delete('kct_probe_' . $id, 'options');
        wp_cache_delete('notoptions', 'options');
        $v = (string) get_option('kct_probe_' . $id, 'not recorded');
        delete_option('kct_probe_' . $id);
        return $v;
    }

    public function testPagesWithoutZoomNeverReachTheRuntime(): void
    {
        $this->configureOAuth(); // a configured clinic: the addon is fully active
        $admin = $this->makeUser('administrator');
        $doctor = $this->makeUser('kiviCare_doctor');
        $pages = [
            'home' => ['/', ''],
            'login' => ['/wp-login.php', ''],
            'rest' => ['/wp-json/', ''],
            'dashboard' => ['/wp-admin/index.php', $this->loggedInCookie($admin, true)],
            'profile' => ['/wp-admin/profile.php', $this->loggedInCookie($doctor, true)],
            'cron' => ['/wp-cron.php', ''],
        ];
        foreach ($pages as $name => [$path, $cookie]) {
            $id = 'p' . $name . wp_rand(1000, 9999);
            [$status] = $this->http('GET', $path . (strpos($path, '?') === false ? '?' : '&') . 'kct_probe=' . $id, null, null,
                $cookie !== '' ? ['Cookie' => $cookie] : []);
            $this->assertLessThan(400, $status, $name);
            $this->assertSame('untouched', self::probed($id), "$name reached the runtime");
        }
    }

    public function testAZoomRequestDoesReachIt(): void
    {
        // The probe itself can fail: a verified webhook runs the core.
        $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $id = 'pwebhook' . wp_rand(1000, 9999);
        $r = self::deliver('kctWebhookSecret0123456', 'meeting.started', ['object' => ['id' => 1]], [], '?kct_probe=' . $id);
        $this->assertSame(200, $r['status']);
        $this->assertSame('touched', self::probed($id));
    }
}
