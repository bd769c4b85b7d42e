<?php
use KCTApp\models\KCTMappingRepository;

/** Who may call which route, over real HTTP: the role × route table. */
final class PermissionsTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;

    public function testRoleByRouteTable(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctorId = $this->makeUser('kiviCare_doctor');
        $patientId = $this->makeUser('kiviCare_patient');
        $roles = [
            'anonymous' => null,
            'subscriber' => $this->credentials($this->makeUser('subscriber')),
            'patient' => $this->credentials($patientId),
            'other_doctor' => $this->credentials($this->makeUser('kiviCare_doctor')),
            'doctor' => $this->credentials($doctorId),
            'admin' => $this->credentials($this->makeUser('administrator')),
        ];
        $now = current_time('mysql', true);
        global $wpdb;
        $wpdb->insert(KCTMappingRepository::table(), ['appointment_id' => 880001, 'doctor_id' => $doctorId, 'patient_id' => $patientId,
            'host' => 'me', 'status' => 'active', 'correlation_ref' => 'kc-perm00000000000000', 'zoom_id' => '85000009999',
            'join_url' => 'https://zoom.example/j/85000009999', 'created_at' => $now, 'updated_at' => $now]);
        $base = '/wp-json/kivicare/v1/settings/zoom-telemed';
        //                                       anonymous subscriber patient other_doctor doctor admin
        $table = [
            ['GET', $base, null,                       [401, 403, 403, 403, 403, 200]],
            ['PUT', $base, ['auth_type' => 'oauth'],   [401, 403, 403, 403, 403, 200]],
            ['GET', "$base/doctor-config", null,       [401, 403, 403, 200, 200, 403]],
            ['PUT', "$base/doctor-config", ['auth_type' => 'none'], [401, 403, 403, 200, 200, 403]],
            ['GET', "$base/authorize", null,           [401, 403, 403, 200, 200, 403]],
            ['GET', "$base/meeting/880001", null,      [401, 403, 200, 403, 'start', 403]],
        ];
        try {
            foreach ($table as [$method, $path, $body, $expected]) {
                foreach (array_keys($roles) as $i => $role) {
                    [$status, $answer] = $this->http($method, $path, $body, $roles[$role]);
                    $want = $expected[$i];
                    if ($want === 'start') {
                        // The host's start link needs Zoom; this doctor is not connected, so
                        // the route is allowed and reports why there is no link.
                        $this->assertNotContains($status, [401, 403], "$method $path as $role");
                        continue;
                    }
                    $this->assertSame($want, $status, "$method $path as $role: " . json_encode($answer));
                    if ($role === 'patient' && $want === 200 && strpos($path, '/meeting/') !== false) {
                        $this->assertArrayNotHasKey('start_url', $answer['data'], 'the patient never gets the host link');
                        $this->assertSame('https://zoom.example/j/85000009999', $answer['data']['join_url']);
                    }
                }
            }
            [$status] = $this->http('POST', "$base/webhook", '{"event":"meeting.started"}');
            $this->assertSame(401, $status, 'unsigned webhook');
        } finally {
            $wpdb->delete(KCTMappingRepository::table(), ['appointment_id' => 880001]);
        }
    }
}
