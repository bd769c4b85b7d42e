<?php
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\meetings\KCTQueue;

/**
 * With Action Scheduler loaded (KiviCare and WooCommerce bundle it), retries are its unique
 * actions in the `kct-zoom` group, not WP-Cron events. Run in its own process, where a
 * stand-in of Action Scheduler's API is loaded (tests/wp/support/ActionSchedulerStandIn.php).
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class ActionSchedulerQueueTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    protected function setUp(): void
    {
        require_once __DIR__ . '/support/ActionSchedulerStandIn.php';
        parent::setUp();
        $this->resetZoom();
        $this->configureOAuth();
    }

    private static function pending(int $id): array
    {
        return array_values(array_filter(kct_test_as_all(), static function ($a) use ($id) {
            return $a['status'] === 'pending' && $a['hook'] === KCTQueue::HOOK && $a['args'] === [$id];
        }));
    }

    /** An hour passes: for Action Scheduler's queue and for the rows' own retry times. */
    private static function anHourLater(): int
    {
        global $wpdb;
        $t = KCTMappingRepository::table();
        $wpdb->query($wpdb->prepare("UPDATE $t SET next_attempt_at = %s, claimed_until = NULL, version = version + 1 WHERE next_attempt_at IS NOT NULL", gmdate('Y-m-d H:i:s', time() - 1)));
        return kct_test_as_run_due(time() + HOUR_IN_SECONDS);
    }

    public function testRetriesAreUniqueActionsInTheGroupAndRunToTheMeeting(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        self::zoom('fault', ['kind' => 'server_error', 'count' => 1, 'path_prefix' => '/v2/users']);
        $r = $this->ensureMeeting(['appointment_id' => 660001, 'doctor_id' => $doctor, 'start_time' => '2030-01-01 10:00:00',
            'duration' => 30, 'timezone' => 'UTC']);
        $this->assertInstanceOf(\WP_Error::class, $r);
        $queued = self::pending(660001);
        $this->assertCount(1, $queued, 'one pending action for the appointment');
        $this->assertSame(KCTQueue::GROUP, $queued[0]['group']);
        $this->assertFalse(wp_next_scheduled(KCTQueue::HOOK, [660001]), 'not WP-Cron');
        $this->assertSame($queued[0]['time'], KCTQueue::next(660001));

        // Queued again (another request, or the sweep): still one pending action.
        KCTQueue::at(660001, time() + 5);
        $this->assertCount(1, self::pending(660001));

        // Action Scheduler's runner resumes the appointment: the meeting is made.
        $this->assertSame(1, self::anHourLater());
        $this->assertSame('active', KCTMappingRepository::find(660001)['status']);
        $this->assertSame([], self::pending(660001), 'nothing left queued');
        $this->assertCount(1, self::zoomMeetings());
    }

    public function testACancelledAppointmentIsSettledByItsActionAndLeavesNoMeeting(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        self::zoom('fault', ['kind' => 'server_error', 'count' => 1, 'path_prefix' => '/v2/users']);
        $this->ensureMeeting(['appointment_id' => 660002, 'doctor_id' => $doctor, 'start_time' => '2030-01-01 10:00:00',
            'duration' => 30, 'timezone' => 'UTC']);
        $this->assertCount(1, self::pending(660002));
        $this->setAppointment(660002, ['status' => 0]);
        \KCTApp\meetings\KCTMeetingLoop::run(660002, 'cancel');
        // The failed create may have reached Zoom: the cancel looks first, at its retry time.
        $this->assertCount(1, self::pending(660002), 'one pending action, the cancel\'s');
        $this->assertSame(1, self::anHourLater());
        $this->assertSame([], self::pending(660002), 'settled: nothing left queued');
        $this->assertSame(0, self::anHourLater());
        $this->assertCount(0, self::zoomMeetings(), 'no meeting for a cancelled appointment');
    }
}
