<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\telemed\KCTAppointmentFacts;

/** No client secret, token or start link in plain text anywhere in the database. */
final class SecretsTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private static function everything(): string
    {
        global $wpdb;
        $dump = implode("\n", $wpdb->get_col("SELECT option_value FROM {$wpdb->options}"));
        $dump .= implode("\n", $wpdb->get_col("SELECT meta_value FROM {$wpdb->usermeta}"));
        foreach ($wpdb->get_results('SELECT * FROM ' . KCTMappingRepository::table(), ARRAY_A) as $row) {
            $dump .= implode("\n", array_map('strval', $row));
        }
        return $dump;
    }

    public function testNothingSecretIsStoredInPlainText(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $row = $this->ensureMeeting((['appointment_id' => 701, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $this->assertIsArray($row);
        $token = KCTTokenStore::get($doctor, true)['token'];
        $db = self::everything();
        foreach (['client secret' => self::$clientSecret, 'access token' => $token['access_token'],
                  'refresh token' => $token['refresh_token'], 'start link' => $row['start_url']] as $what => $secret) {
            $this->assertNotEmpty($secret);
            $this->assertStringNotContainsString($secret, $db, "$what stored in plain text");
        }
        $this->assertStringContainsString($row['join_url'], $db, 'the join link is not a secret');
    }

    public function testAnUndecryptableTokenMeansReconnectNotACrash(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        \KCTApp\storage\KCTSideDb::setUserMeta($doctor, KCTTokenStore::META, 'kct1:' . base64_encode(random_bytes(80)));
        $this->actAs($doctor);
        $r = $this->rest('GET', '/kivicare/v1/settings/zoom-telemed/doctor-config');
        $this->assertSame(200, $r->get_status());
        $this->assertSame('reconnect_required', $r->get_data()['data']['connection_status']);
        $this->assertFalse($r->get_data()['data']['is_connected']);
        $providers = apply_filters('kc_telemed_providers', []);
        $provider = new $providers['zoom']['class']($providers['zoom']['settings_key']);
        $this->assertNull($provider->get_doctor_access_token($doctor));
    }

    public function testErrorsNeverEchoSecrets(): void
    {
        $this->actAs($this->makeUser('administrator'));
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', ['auth_type' => 'oauth', 'client_id' => 'AbCdEfGhIjKl', 'client_secret' => 'bad secret with spaces!!', 'redirect_url' => 'https://x.example/cb']);
        $this->assertSame(400, $r->get_status());
        $this->assertStringNotContainsString('bad secret', wp_json_encode($r->get_data()));
        $this->assertSame('client_secret', $r->get_data()['data']['errors'][0]['field'] ?? $r->get_data()['data']['errors'][1]['field']);
    }
}
