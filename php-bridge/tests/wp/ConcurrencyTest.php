<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\auth\KCTZoomAuth;
use KCTApp\connection\KCTConnect;

/**
 * Token refresh is single-flight across PHP processes: two workers that both find the token
 * due refresh it once (the database lock, then a re-read), so the rotated refresh token is
 * never burnt twice and neither worker loses the connection.
 */
final class ConcurrencyTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;

    /**
     * Runs PHP worker processes at once (fixtures/<script> with its arguments).
     *
     * @param array[] $runs [script, ...args] each
     * @return string[] what each printed
     */
    private static function workers(array $runs): array
    {
        $procs = [];
        $pipes = [];
        foreach ($runs as $i => $run) {
            $script = array_shift($run);
            $procs[$i] = proc_open(array_merge([PHP_BINARY, __DIR__ . '/fixtures/' . $script], $run), [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes[$i]);
        }
        $out = [];
        foreach ($procs as $i => $p) {
            $out[$i] = trim(stream_get_contents($pipes[$i][1])) . trim(stream_get_contents($pipes[$i][2]));
            proc_close($p);
        }
        return $out;
    }

    /**
     * A doctor connected through OAuth whose stored access token has expired.
     *
     * @return array{0: int, 1: array, 2: int} the doctor, the token set, Zoom's token calls so far
     */
    private function doctorWithADueToken(): array
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $token = KCTTokenStore::get($doctor, true)['token'];
        $token['expires_at'] = time() - 10;
        KCTTokenStore::put($doctor, $token);
        $before = self::zoomStats()['calls']['oauth.token'];
        return [$doctor, $token, $before];
    }

    /**
     * Found by review: every renewal of a doctor's Zoom token told KiviCare again that Zoom is
     * their telemedicine and switched Google Meet off, so a doctor who had since chosen Meet
     * was moved back to Zoom by the nightly check of an old Zoom meeting. Only connecting does
     * that now.
     */
    public function testARenewedTokenLeavesTheDoctorsChoiceOfGoogleMeet(): void
    {
        [$doctor, $token, $before] = $this->doctorWithADueToken();
        $this->assertSame('zoom', get_user_meta($doctor, 'telemed_type', true), 'connecting chose Zoom');
        // The doctor connects Google Meet in KiviCare afterwards.
        update_user_meta($doctor, 'telemed_type', 'googlemeet');
        update_user_meta($doctor, 'kiviCare_google_meet_connect', 'on');
        $renewed = KCTZoomAuth::token(KCTZoomAuth::context($doctor));
        $this->assertIsArray($renewed);
        $this->assertNotSame($token['access_token'], $renewed['access_token']);
        $this->assertSame($before + 1, self::zoomStats()['calls']['oauth.token'], 'renewed at Zoom');
        wp_cache_delete($doctor, 'user_meta');
        $this->assertSame('googlemeet', get_user_meta($doctor, 'telemed_type', true));
        $this->assertSame('on', get_user_meta($doctor, 'kiviCare_google_meet_connect', true));
        $this->assertSame('on', get_user_meta($doctor, KCTTokenStore::CONNECTED_FLAG, true), 'Zoom stays connected');
    }

    /**
     * Issue 14: the side connection opens in one round trip after the handshake (about 0.25
     * ms less in every request that reads a token), and is what wpdb's connect made it: the
     * database, the charset and collation of WordPress's own connection, the short lock wait.
     */
    public function testTheSideConnectionIsOpenedLeanAndAsWordPressWouldHaveIt(): void
    {
        global $wpdb;
        $side = \KCTApp\storage\KCTSideDb::db();
        $this->assertInstanceOf(\KCTApp\storage\KCTSideConnection::class, $side);
        $this->assertSame(DB_NAME, $side->get_var('SELECT DATABASE()'));
        $this->assertSame('10', $side->get_var('SELECT @@SESSION.innodb_lock_wait_timeout'));
        foreach (['character_set_client', 'character_set_connection', 'character_set_results', 'collation_connection'] as $v) {
            $this->assertSame($wpdb->get_var("SELECT @@SESSION.$v"), $side->get_var("SELECT @@SESSION.$v"), $v);
        }
        $text = "it's \\ \"é\" 😀";
        $this->assertSame($text, $side->get_var($side->prepare('SELECT %s', $text)), 'escaped for the connection\'s charset');
        // A server it cannot reach: not ready, and no bail (KCTSideDb then connects as WordPress does).
        $this->assertFalse((new \KCTApp\storage\KCTSideConnection(DB_USER, DB_PASSWORD, DB_NAME, '127.0.0.1:1'))->ready);
    }

    public function testTwoProcessesRefreshOnce(): void
    {
        [$doctor, $token, $before] = $this->doctorWithADueToken();
        // Slow refreshes widen the race: without the lock both workers would refresh.
        self::zoom('fault', ['kind' => 'latency', 'latency_ms' => 700, 'count' => 2, 'path_prefix' => '/oauth/token']);

        $out = self::workers(array_fill(0, 2, ['zoom-worker.php', (string) $doctor]));
        $this->assertSame(['ok', 'ok'], array_values($out), json_encode($out));
        $this->assertSame($before + 1, self::zoomStats()['calls']['oauth.token'], 'exactly one refresh reached Zoom');
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state']);
        $this->assertNotSame($token['refresh_token'], KCTTokenStore::get($doctor, true)['token']['refresh_token'], 'rotated once, kept');
    }

    /**
     * Twenty workers find the token expired inside booking transactions that roll back at
     * random (CONTRACT §3 A). Exactly one refresh reaches Zoom, every call succeeds, and the
     * rotated token survives every rollback: it was committed on the side connection.
     */
    public function testARefreshUnderLoadSurvivesRolledBackTransactions(): void
    {
        [$doctor, $token, $before] = $this->doctorWithADueToken();
        self::zoom('fault', ['kind' => 'latency', 'latency_ms' => 400, 'count' => 1, 'path_prefix' => '/oauth/token']);

        $ends = [];
        for ($i = 0; $i < 20; $i++) {
            $ends[$i] = random_int(0, 1) ? 'commit' : 'rollback';
        }
        $out = self::workers(array_map(static function ($end) use ($doctor) {
            return ['zoom-txn-worker.php', (string) $doctor, $end];
        }, $ends));
        $this->assertSame(array_fill(0, 20, 'ok'), $out, json_encode([$ends, $out]));
        $this->assertSame($before + 1, self::zoomStats()['calls']['oauth.token'], 'exactly one refresh reached Zoom');
        $stored = KCTTokenStore::get($doctor, true);
        $this->assertSame('ok', $stored['state']);
        $this->assertNotSame($token['refresh_token'], $stored['token']['refresh_token'], 'the rotated token was kept');
        // And it is the live one: the next refresh with it succeeds (no invalid_grant).
        $stored['token']['expires_at'] = time() - 10;
        KCTTokenStore::put($doctor, $stored['token']);
        $again = KCTConnect::testConnection($doctor);
        $this->assertIsArray($again, is_wp_error($again) ? $again->get_error_code() : '');
        $this->assertSame($before + 2, self::zoomStats()['calls']['oauth.token']);
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state']);
    }

    /**
     * A worker that finds another one renewing the same token waits the core's lock wait,
     * then fails the call as busy at the core's retry time (counted from before the wait),
     * and leaves the token and the connection as they were: nothing refreshed twice.
     */
    public function testARenewalThatFindsTheLockHeldFailsAsBusyAtTheCoresTimeAndTouchesNothing(): void
    {
        [$doctor, $token, $before] = $this->doctorWithADueToken();
        // Another worker's renewal: the same named lock, held on a connection of its own.
        $other = new \KCTApp\storage\KCTSideConnection(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
        $key = \KCTApp\storage\KCTSideDb::lockKey('kct_refresh_' . $doctor);
        $this->assertSame('1', (string) $other->get_var($other->prepare('SELECT GET_LOCK(%s, 0)', $key)));
        try {
            $t0 = time();
            $r = KCTConnect::testConnection($doctor);
            $waited = time() - $t0;
        } finally {
            $other->get_var($other->prepare('SELECT RELEASE_LOCK(%s)', $key));
            $other->close();
        }
        $this->assertInstanceOf(\WP_Error::class, $r);
        $this->assertSame('kct_retry_later', $r->get_error_code());
        $this->assertGreaterThanOrEqual(9, $waited, 'the lock was waited for, as long as the core said');
        $at = $r->get_error_data()['retry_at'];
        $this->assertGreaterThanOrEqual($t0 + 15, $at, 'the lock wait and the rest after it, both the core\'s');
        $this->assertLessThanOrEqual($t0 + 16, $at);
        $this->assertSame($before, self::zoomStats()['calls']['oauth.token'], 'no refresh reached Zoom');
        $stored = KCTTokenStore::get($doctor, true);
        $this->assertSame('ok', $stored['state']);
        $this->assertSame($token, $stored['token'], 'the token is as it was');
    }

    /**
     * Found moving token renewal into the core: when Zoom refused the refresh token and the
     * store held another set by then (the doctor connected again meanwhile) that was due too,
     * the bridge disconnected the doctor. The core says refresh the stored set, and it is.
     */
    public function testARefusedRefreshCarriesOnWithTheNewerStoredSetEvenWhenItIsDue(): void
    {
        [$doctor, $old] = $this->doctorWithADueToken();
        // Rotate once: the old refresh token dies at Zoom, a newer set is stored.
        $this->assertIsArray(KCTConnect::testConnection($doctor));
        $newer = KCTTokenStore::get($doctor, true)['token'];
        $this->assertNotSame($old['refresh_token'], $newer['refresh_token']);
        $newer['expires_at'] = time() - 10;
        KCTTokenStore::put($doctor, $old);
        $before = self::zoomStats()['calls']['oauth.token'];
        // While the dead token goes to Zoom, the newer set (due too) lands in the store.
        $swap = static function ($pre, $args, $url) use ($doctor, $old, $newer) {
            if (strpos($url, '/oauth/token') !== false && strpos((string) ($args['body'] ?? ''), rawurlencode($old['refresh_token'])) !== false) {
                \KCTApp\storage\KCTEncrypted::setSideUserMeta($doctor, \KCTApp\storage\KCTSite::userKey(KCTTokenStore::META), $newer);
            }
            return $pre;
        };
        add_filter('pre_http_request', $swap, 10, 3);
        try {
            $r = KCTConnect::testConnection($doctor);
        } finally {
            remove_filter('pre_http_request', $swap, 10);
        }
        $this->assertIsArray($r, is_wp_error($r) ? $r->get_error_code() : '');
        $this->assertSame($before + 2, self::zoomStats()['calls']['oauth.token'], 'the dead token refused, then the newer one refreshed');
        $stored = KCTTokenStore::get($doctor, true);
        $this->assertSame('connected', KCTTokenStore::connection($doctor));
        $this->assertNotContains($stored['token']['refresh_token'], [$old['refresh_token'], $newer['refresh_token']], 'rotated from the newer set');
    }
}
