<?php
use KCTApp\auth\KCTTokenStore;

/**
 * Token refresh is single-flight across PHP processes: two workers that both find the token
 * due refresh it once (the database lock, then a re-read), so the rotated refresh token is
 * never burnt twice and neither worker loses the connection.
 */
final class ConcurrencyTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;

    public function testTwoProcessesRefreshOnce(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $token = KCTTokenStore::get($doctor, true)['token'];
        $token['expires_at'] = time() - 10;
        KCTTokenStore::put($doctor, $token);
        $before = self::zoomStats()['calls']['oauth.token'];
        // Slow refreshes widen the race: without the lock both workers would refresh.
        self::zoom('fault', ['kind' => 'latency', 'latency_ms' => 700, 'count' => 2, 'path_prefix' => '/oauth/token']);

        $procs = [];
        foreach ([1, 2] as $i) {
            $procs[$i] = proc_open([PHP_BINARY, __DIR__ . '/fixtures/zoom-worker.php', (string) $doctor], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes[$i]);
        }
        $out = [];
        foreach ($procs as $i => $p) {
            $out[$i] = trim(stream_get_contents($pipes[$i][1])) . trim(stream_get_contents($pipes[$i][2]));
            proc_close($p);
        }
        $this->assertSame(['ok', 'ok'], array_values($out), json_encode($out));
        $this->assertSame($before + 1, self::zoomStats()['calls']['oauth.token'], 'exactly one refresh reached Zoom');
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state']);
        $this->assertNotSame($token['refresh_token'], KCTTokenStore::get($doctor, true)['token']['refresh_token'], 'rotated once, kept');
    }
}
