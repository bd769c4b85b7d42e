<?php
use KCTApp\meetings\KCTMappingRepository;

/**
 * Who may call which route, over real HTTP: the role × route table kept as data in
 * fixtures/route-table.json (both namespaces, every route and method, the public callback
 * and webhook, the start action). Prints the table and `mismatches=0`.
 */
final class PermissionsTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;

    public function testRoleByRouteTable(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $ids = [
            'anonymous' => 0,
            'subscriber' => $this->makeUser('subscriber'),
            'patient_own' => $this->makeUser('kiviCare_patient'),
            'patient_other' => $this->makeUser('kiviCare_patient'),
            'receptionist' => $this->makeUser('kiviCare_receptionist'),
            'clinic_admin' => $this->makeUser('kiviCare_clinic_admin'),
            'doctor_own' => $this->makeUser('kiviCare_doctor'),
            'doctor_other' => $this->makeUser('kiviCare_doctor'),
            'admin' => $this->makeUser('administrator'),
        ];
        $now = current_time('mysql', true);
        global $wpdb;
        $wpdb->insert(KCTMappingRepository::table(), ['appointment_id' => 880001, 'doctor_id' => $ids['doctor_own'], 'patient_id' => $ids['patient_own'],
            'host' => 'me', 'status' => 'active', 'correlation_ref' => 'kc-perm00000000000000', 'zoom_id' => '85000009999',
            'join_url' => 'https://zoom.example/j/85000009999', 'created_at' => $now, 'updated_at' => $now]);
        $table = json_decode((string) file_get_contents(__DIR__ . '/fixtures/route-table.json'), true);
        $this->assertSame(array_keys($ids), $table['roles']);
        $lines = [];
        $mismatches = [];
        $credentials = [];
        foreach ($ids as $role => $id) {
            $credentials[$role] = $id ? $this->credentials($id) : null;
        }
        try {
            foreach ($table['rows'] as $row) {
                $path = str_replace(['{appointment}'], ['880001'], $row['path']);
                $body = is_array($row['body']) ? json_decode(str_replace('"{doctor_own}"', (string) $ids['doctor_own'], (string) wp_json_encode($row['body'])), true) : $row['body'];
                $cells = [];
                foreach ($ids as $role => $id) {
                    $wpAdmin = strpos($path, '/wp-admin/') === 0;
                    $auth = $id && !$wpAdmin ? $credentials[$role] : null;
                    $headers = $id && $wpAdmin ? ['Cookie' => $this->loggedInCookie($id, true)] : [];
                    [$status, $answer] = $this->http($row['method'], $path, $body, $auth, $headers);
                    $want = $row['expect'][$role];
                    $ok = $want === 'allow' ? !in_array($status, [401, 403], true) && $status < 500
                        : ($want === 'deny' ? $status === ($id ? 403 : 401) : $status === $want);
                    $cells[] = str_pad($status . ($ok ? '' : '!'), 5);
                    if (!$ok) {
                        $mismatches[] = "{$row['method']} $path as $role: $status, wanted $want";
                    }
                    if ($role === 'patient_own' && strpos($path, '/meeting/') !== false) {
                        $this->assertArrayNotHasKey('start_url', $answer['data'], 'the patient never gets the host link');
                    }
                }
                $lines[] = implode(' ', $cells) . '  ' . $row['method'] . ' ' . $path;
            }
        } finally {
            $wpdb->delete(KCTMappingRepository::table(), ['appointment_id' => 880001]);
        }
        fwrite(STDERR, "\n" . implode(' ', array_map(static function ($r) {
            return str_pad(substr($r, 0, 5), 5);
        }, array_keys($ids))) . "\n" . implode("\n", $lines) . "\nmismatches=" . count($mismatches) . "\n");
        $this->assertSame([], $mismatches);
    }
}
