<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\models\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\telemed\KCTAppointmentFacts;

/** Zoom's webhooks over real HTTP, signed by the fake Zoom exactly as Zoom signs them. */
final class WebhookTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private function send(string $secret, string $event, array $payload = []): array
    {
        return self::zoom('webhook', ['url' => getenv('KCT_WP_URL') . '/wp-json/kivicare/v1/settings/zoom-telemed/webhook',
            'secret' => $secret, 'event' => $event, 'payload' => $payload ?: new \stdClass()]);
    }

    public function testSignedEventsApplyAndUnsignedOnesAreRefused(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $row = $this->ensureMeeting((['appointment_id' => 770001, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        try {
            $v = $this->send('kctWebhookSecret0123456', 'endpoint.url_validation');
            $this->assertSame(200, $v['status']);
            $this->assertTrue($v['validated'], 'the URL validation handshake');

            $s = $this->send('kctWebhookSecret0123456', 'meeting.started', ['object' => ['id' => (int) $row['zoom_id']]]);
            $this->assertSame(200, $s['status'], $s['body']);
            $this->assertSame('started', KCTMappingRepository::find(770001)['meeting_state']);

            $bad = $this->send('not-the-secret-000000', 'meeting.ended', ['object' => ['id' => (int) $row['zoom_id']]]);
            $this->assertSame(401, $bad['status']);
            $this->assertSame('started', KCTMappingRepository::find(770001)['meeting_state'], 'nothing changed');

            // Rotation: the previous secret still verifies.
            $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecretNew01234']));
            $old = $this->send('kctWebhookSecret0123456', 'meeting.ended', ['object' => ['id' => $row['zoom_id']]]);
            $this->assertSame(200, $old['status']);
            $this->assertSame('ended', KCTMappingRepository::find(770001)['meeting_state']);

            $zoomUser = get_user_meta($doctor, KCTTokenStore::ZOOM_USER, true);
            $this->assertNotEmpty($zoomUser);
            $d = $this->send('kctWebhookSecretNew01234', 'app_deauthorized', ['account_id' => 'fzAccountOAuth', 'user_id' => $zoomUser,
                'client_id' => self::$clientId, 'deauthorization_time' => gmdate('c')]);
            $this->assertSame(200, $d['status']);
            wp_cache_delete($doctor, 'user_meta');
            $this->assertSame('none', KCTTokenStore::get($doctor, true)['state'], 'deauthorization deletes the tokens');
            $this->assertSame('deauthorized', KCTTokenStore::connection($doctor));
        } finally {
            KCTMappingRepository::delete(770001);
        }
    }
}
