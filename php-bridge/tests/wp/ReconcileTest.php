<?php
use KCTApp\meetings\KCTReconcile;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTZoomApi;

/** The nightly reconcile against the fake Zoom with seeded drift. */
final class ReconcileTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private function meeting(int $id, int $doctor, string $start): array
    {
        $row = $this->ensureMeeting(['appointment_id' => $id, 'doctor_id' => $doctor, 'patient_id' => $this->makeUser('kiviCare_patient'),
            'start_time' => $start, 'duration' => 30, 'timezone' => 'UTC']);
        $this->assertIsArray($row);
        return $row;
    }

    private static function atZoom(string $zoomId): ?array
    {
        foreach (self::zoomMeetings() as $m) {
            if ((string) $m['id'] === $zoomId) {
                return $m;
            }
        }
        return null;
    }

    public function testDriftLostMeetingsAndOrphansAreRepaired(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $kept = $this->meeting(960, $doctor, '2030-01-01 10:00:00');
        $drifted = $this->meeting(961, $doctor, '2030-01-02 10:00:00');
        $lost = $this->meeting(962, $doctor, '2030-01-03 10:00:00');

        // Seeded drift, behind our back: a time changed in Zoom, a meeting deleted in Zoom (no
        // webhook), an orphan carrying our reference, and a meeting that is not ours at all.
        $call = static function (string $op, callable $build) use ($doctor) {
            return KCTZoomApi::call($doctor, $op, $build);
        };
        $this->assertNull($call('update_meeting', static function ($core, $auth) use ($drifted) {
            return $core->meetingUpdate(['auth' => $auth, 'meeting_id' => $drifted['zoom_id'], 'appointment' => ['id' => 961,
                'start_unix' => strtotime('2030-01-02 14:00:00 UTC'), 'duration_min' => 45, 'timezone' => 'UTC', 'correlation_ref' => $drifted['correlation_ref']]]);
        }));
        $this->assertNull($call('delete_meeting', static function ($core, $auth) use ($lost) {
            return $core->meetingDelete(['auth' => $auth, 'meeting_id' => $lost['zoom_id']]);
        }));
        $orphan = $call('create_meeting', static function ($core, $auth, $host) {
            return $core->meetingCreate(['auth' => $auth, 'host' => $host, 'random' => KCTCoreAccess::random(16),
                'appointment' => ['id' => 999, 'start_unix' => strtotime('2030-02-01 10:00:00 UTC'), 'duration_min' => 30, 'timezone' => 'UTC',
                    'correlation_ref' => 'kc-abcdefabcdefabcdef01']]);
        });
        $this->assertIsArray($orphan);
        $theirs = $call('create_meeting', static function ($core, $auth, $host) {
            return $core->meetingCreate(['auth' => $auth, 'host' => $host, 'random' => KCTCoreAccess::random(16),
                'policy' => ['topic_template' => 'Staff meeting {ref}'],
                'appointment' => ['id' => 998, 'start_unix' => strtotime('2030-02-02 10:00:00 UTC'), 'duration_min' => 30, 'timezone' => 'UTC',
                    'correlation_ref' => 'kc-abcdefabcdefabcdef02']]);
        });
        $this->assertIsArray($theirs);
        global $wpdb;
        $wpdb->insert(KCTMappingRepository::table(), ['appointment_id' => 963, 'status' => 'failed', 'correlation_ref' => 'kc-abcdefabcdefabcdef02',
            'zoom_id' => $theirs['zoom_id'], 'created_at' => current_time('mysql', true), 'updated_at' => current_time('mysql', true)]);

        $counts = KCTReconcile::run();

        $this->assertSame(3, $counts['verified']);
        $this->assertSame(1, $counts['moved'], json_encode($counts));
        $this->assertSame(1, $counts['recreated']);
        $this->assertSame(1, $counts['orphans_deleted']);
        $this->assertSame('2030-01-01T10:00:00Z', self::atZoom($kept['zoom_id'])['start_time'], 'untouched');
        $this->assertSame('2030-01-02T10:00:00Z', self::atZoom($drifted['zoom_id'])['start_time'], 'moved back to the appointment');
        $this->assertSame(30, self::atZoom($drifted['zoom_id'])['duration']);
        $now = KCTMappingRepository::find(962);
        $this->assertTrue(KCTMappingRepository::isLive($now));
        $this->assertNotNull(self::atZoom($now['zoom_id']), 'made again');
        $this->assertNull(self::atZoom($orphan['zoom_id']), 'our meeting without an appointment is deleted');
        $this->assertNotNull(self::atZoom($theirs['zoom_id']), 'a meeting a row still names is kept');
        $this->assertSame($counts, get_option(KCTReconcile::LAST));
        $tests = apply_filters('site_status_tests', ['direct' => [], 'async' => []]);
        $health = call_user_func($tests['direct']['kct_zoom_reconcile']['test']);
        $this->assertStringContainsString('made again: 1;', $health['description']);

        $again = KCTReconcile::run();
        $this->assertSame([0, 0, 0], [$again['moved'], $again['recreated'], $again['orphans_deleted']], 'a second run finds nothing to do');
    }
}
