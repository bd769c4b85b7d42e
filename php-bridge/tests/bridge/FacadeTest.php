<?php
use KCTApp\wasm\KCTCoreException;
use KCTApp\wasm\KCTZoomCore;
use PHPUnit\Framework\TestCase;

/** The typed facade: one method per core operation, and none missing or stale. */
final class FacadeTest extends TestCase
{
    public function testEveryCoreOperationHasAMethodAndNoMore(): void
    {
        $core = KCTZoomCore::load();
        $ops = array_values(array_diff($core->metaInfo()['ops'], ['debug.panic']));
        $this->assertSame($ops, array_keys(KCTZoomCore::OPS));
        foreach (KCTZoomCore::OPS as $method) {
            $this->assertTrue(method_exists($core, $method), $method);
        }
    }

    public function testArraysInArraysOut(): void
    {
        $core = KCTZoomCore::load();
        $req = $core->meetingCreate([
            'auth' => ['access_token' => 't', 'api_url' => 'https://api.zoom.us'],
            'host' => 'me',
            'appointment' => ['id' => 5, 'start_unix' => 1767261600, 'duration_min' => 20, 'timezone' => 'Europe/Berlin', 'correlation_ref' => 'kc-aaaaaaaaaaaaaaaaaaaa'],
            'random' => str_repeat('7f', 16),
        ]);
        $this->assertSame('POST', $req['method']);
        $body = json_decode($req['body'], true);
        $this->assertSame('2026-01-01T10:00:00Z', $body['start_time']);
        $step = $core->lifecycleStep(['appointment_id' => 5, 'intent' => 'cancel', 'now' => 1, 'random' => str_repeat('7f', 34)]);
        $this->assertSame(['write' => null, 'effect' => ['do' => 'finish', 'result' => 'nothing']], $step);
        $this->assertSame($req, $core->run('meeting.create', [
            'auth' => ['access_token' => 't', 'api_url' => 'https://api.zoom.us'],
            'host' => 'me',
            'appointment' => ['id' => 5, 'start_unix' => 1767261600, 'duration_min' => 20, 'timezone' => 'Europe/Berlin', 'correlation_ref' => 'kc-aaaaaaaaaaaaaaaaaaaa'],
            'random' => str_repeat('7f', 16),
        ]), 'an operation named by the core runs like its method');
    }

    public function testFieldErrorsCarryTheField(): void
    {
        try {
            KCTZoomCore::load()->oauthAuthorize(['client_id' => 'a:b', 'redirect_uri' => 'https://x.org/cb', 'user_id' => 1, 'now' => 1, 'site_key' => str_repeat('k', 40), 'random' => str_repeat('00', 16)]);
            $this->fail('no error');
        } catch (KCTCoreException $e) {
            $this->assertSame('client_id_invalid', $e->errorCode);
            $this->assertSame('client_id', $e->field);
        }
    }
}
