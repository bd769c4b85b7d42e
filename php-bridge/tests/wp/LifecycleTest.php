<?php
use KCTApp\models\KCTMappingRepository;
use KCTApp\telemed\KCTAppointmentHooks;
use KCTApp\telemed\KCTMeetingService;
use KCTApp\telemed\KCTZoom;

/**
 * An appointment's meeting through its life, driven as KiviCare core drives it: through the
 * provider built by the (test-only) stand-in of its abstract class, and its actions.
 */
final class LifecycleTest extends KCTWPTestCase
{
    use KCTZoomFixtures;

    /** @var int */
    private $doctor;
    /** @var int */
    private $patient;

    protected function setUp(): void
    {
        parent::setUp();
        $this->resetZoom();
        $this->configureOAuth();
        $this->doctor = $this->makeUser('kiviCare_doctor');
        $this->patient = $this->makeUser('kiviCare_patient');
        $this->connectDoctor($this->doctor);
        update_option('timezone_string', 'Asia/Kolkata');
    }

    private function provider(): KCTZoom
    {
        $providers = apply_filters('kc_telemed_providers', []);
        $this->assertSame(KCTZoom::class, $providers['zoom']['class']);
        $p = new $providers['zoom']['class']($providers['zoom']['settings_key']);
        $p->init_hook();
        return $p;
    }

    /** What core passes on booking (CONTRACT §3 A): local time in the appointment's zone. */
    private function bookingData(int $id, string $localStart = '2030-01-01 15:30:00'): array
    {
        return ['topic' => 'General consultation', 'type' => 'scheduled', 'start_time' => $localStart, 'duration' => 30,
            'timezone' => 'Asia/Kolkata', 'password' => '', 'waiting_room' => false, 'auto_recording' => false,
            'host_video' => true, 'participant_video' => true, 'mute_upon_entry' => true,
            'patient_id' => $this->patient, 'doctor_id' => $this->doctor, 'appointment_id' => $id];
    }

    private function retryScheduled(): bool
    {
        foreach ((array) _get_cron_array() as $hooks) {
            if (isset($hooks[KCTMeetingService::RETRY_HOOK])) {
                return true;
            }
        }
        return false;
    }

    public function testProviderIsCheapAndEligibility(): void
    {
        $before = self::zoomStats()['calls'];
        $p = $this->provider();
        $this->assertSame('zoom', $p->get_provider_id());
        $this->assertTrue($p->is_configured());
        $this->assertSame($before, self::zoomStats()['calls'], 'constructing the provider calls nobody');
        $this->assertNotEmpty($p->get_doctor_access_token($this->doctor));
        $this->assertStringNotContainsString('at_', (string) $p->get_doctor_access_token($this->doctor), 'never the token itself');
        $this->assertNull($p->get_doctor_access_token($this->makeUser('kiviCare_doctor')), 'an unconnected doctor is not eligible');
    }

    public function testCreateSendsUtcAndNeverTwoMeetings(): void
    {
        $p = $this->provider();
        $result = $p->create_meeting($this->bookingData(501));
        $this->assertIsArray($result, is_wp_error($result) ? $result->get_error_message() : '');
        $meetings = self::zoomMeetings();
        $this->assertCount(1, $meetings);
        // 15:30 in Kolkata is 10:00 UTC; the shipped addon sent "15:30:00Z".
        $this->assertSame('2030-01-01T10:00:00Z', $meetings[0]['start_time']);
        $this->assertSame('Asia/Kolkata', $meetings[0]['timezone']);
        $this->assertTrue($meetings[0]['settings']['waiting_room']);
        $this->assertSame(0, self::zoomStats()['invalid_bodies']);
        $row = KCTMappingRepository::find(501);
        $this->assertSame('active', $row['status']);
        $this->assertSame((string) $meetings[0]['id'], $row['zoom_id']);
        // Payment success calls create_meeting again (CONTRACT §3 B): still one meeting.
        $p->create_meeting($this->bookingData(501));
        do_action('kc_appointment_payment_completed', 501, ['doctor_id' => $this->doctor]);
        $this->assertCount(1, self::zoomMeetings());
        $this->assertSame($row['zoom_id'], $p->get_meeting_by_appointment(501)->zoomId);
    }

    public function testRescheduleMovesTheMeeting(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(502));
        $zoomId = $p->get_meeting_by_appointment(502)->zoomId;
        $this->assertIsArray($p->update_meeting($zoomId, ['start_time' => '2030-01-02 09:00:00', 'duration' => 45, 'doctor_id' => $this->doctor]));
        $m = self::zoomMeetings()[0];
        $this->assertSame('2030-01-02T03:30:00Z', $m['start_time']);
        $this->assertSame(45, $m['duration']);
    }

    public function testRegenerateReplacesInsteadOfDuplicating(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(503));
        $old = $p->get_meeting_by_appointment(503)->zoomId;
        // Core's regenerate passes "now" and 30 minutes (§3 F, §8.4).
        $r = $p->create_meeting(['topic' => KCTZoom::REGENERATE_TOPIC, 'start_time' => current_time('mysql'), 'duration' => 30,
            'doctor_id' => $this->doctor, 'patient_id' => $this->patient, 'appointment_id' => 503, 'timezone' => 'Asia/Kolkata']);
        $this->assertIsArray($r);
        $meetings = self::zoomMeetings();
        $this->assertCount(1, $meetings, 'the old meeting is deleted at Zoom');
        $this->assertNotSame($old, (string) $meetings[0]['id']);
        $this->assertSame('2030-01-01T10:00:00Z', $meetings[0]['start_time'], 'the stored schedule is kept');
        $this->assertSame((string) $meetings[0]['id'], KCTMappingRepository::find(503)['zoom_id']);
    }

    public function testCancelAndDeleteReachZoom(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(504));
        $p->create_meeting($this->bookingData(505));
        $this->assertTrue($p->cancel_meeting_by_appointment(504));
        $this->assertSame('cancelled', KCTMappingRepository::find(504)['status']);
        do_action('kc_appointment_deleted', 505, null);
        $this->assertSame('deleted', KCTMappingRepository::find(505)['status']);
        $this->assertCount(0, self::zoomMeetings());
        $this->assertTrue($p->cancel_meeting_by_appointment(999999), 'no mapping: a no-op');
        $this->assertNull($p->get_meeting_by_appointment(504));
    }

    public function testLaterConfirmationCreatesTheMeeting(): void
    {
        add_filter('kct_zoom_is_telemed_appointment', '__return_true');
        try {
            do_action('kc_appointment_status_update', 506, 1, ['doctor_id' => $this->doctor, 'patient_id' => $this->patient,
                'appointment_start_date' => '2030-03-01', 'appointment_start_time' => '10:00:00', 'appointment_end_time' => '10:20:00',
                'appointment_timezone' => 'Asia/Kolkata']);
        } finally {
            remove_filter('kct_zoom_is_telemed_appointment', '__return_true');
        }
        $row = KCTMappingRepository::find(506);
        $this->assertSame('active', $row['status']);
        $m = self::zoomMeetings()[0];
        $this->assertSame('2030-03-01T04:30:00Z', $m['start_time']);
        $this->assertSame(20, $m['duration']);
        do_action('kc_appointment_status_update', 506, 0, null);
        $this->assertSame('cancelled', KCTMappingRepository::find(506)['status']);
    }

    public function testPatientDeletionRemovesTheirMeetings(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(507));
        $p->create_meeting($this->bookingData(508));
        do_action('kc_patient_delete', $this->patient);
        $this->assertCount(0, self::zoomMeetings());
        $this->assertSame('deleted', KCTMappingRepository::find(508)['status']);
    }

    public function testStartLinkIsFreshForTheHost(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(509));
        $first = KCTMeetingService::startLink(509);
        $this->assertSame($first, KCTMeetingService::startLink(509), 'fetched moments ago: reused');
        $row = KCTMappingRepository::find(509);
        $row['start_url_fetched_at'] = time() - 600;
        KCTMappingRepository::save($row);
        $fresh = KCTMeetingService::startLink(509);
        $this->assertNotSame($first, $fresh, 'older than five minutes: fetched again');
        $this->assertStringContainsString('zak=', $fresh);
    }

    public function testAnInterruptedCreateIsRecoveredNotRepeated(): void
    {
        self::zoom('fault', ['kind' => 'drop_after_create', 'path_prefix' => '/v2/users']);
        $r = $this->provider()->create_meeting($this->bookingData(510));
        $this->assertInstanceOf(\WP_Error::class, $r);
        $this->assertSame('kct_retry_later', $r->get_error_code());
        $row = KCTMappingRepository::find(510);
        $this->assertSame('pending', $row['status'], 'the reservation stays for recovery');
        $this->assertTrue($this->retryScheduled(), 'a retry is scheduled');
        $this->assertCount(1, self::zoomMeetings(), 'Zoom did create it');
        // Later (past the pending grace), the retry looks for it before creating.
        $row['updated_at'] = time() - 600;
        KCTMappingRepository::save($row);
        $again = $this->provider()->create_meeting($this->bookingData(510));
        $this->assertIsArray($again);
        $this->assertCount(1, self::zoomMeetings(), 'recovered, not created twice');
        $this->assertSame((string) self::zoomMeetings()[0]['id'], KCTMappingRepository::find(510)['zoom_id']);
    }

    public function testRateLimitSchedulesARetryAndKeepsTheBooking(): void
    {
        self::zoom('fault', ['kind' => 'rate_limit', 'retry_after' => '30', 'path_prefix' => '/v2/users']);
        $r = $this->provider()->create_meeting($this->bookingData(511));
        $this->assertInstanceOf(\WP_Error::class, $r, 'a WP_Error keeps the booking in core (§3 A)');
        $this->assertGreaterThanOrEqual(time() + 25, $r->get_error_data()['retry_at']);
        $this->assertSame('failed', KCTMappingRepository::find(511)['status']);
        $this->assertTrue($this->retryScheduled(), 'a retry is scheduled');
        // Time passes: bring the scheduled retry forward and let "cron" run it.
        foreach ((array) _get_cron_array() as $time => $hooks) {
            foreach ($hooks[KCTMeetingService::RETRY_HOOK] ?? [] as $event) {
                wp_unschedule_event($time, KCTMeetingService::RETRY_HOOK, $event['args']);
                wp_schedule_single_event(time() - 1, KCTMeetingService::RETRY_HOOK, $event['args']);
            }
        }
        $this->assertGreaterThanOrEqual(1, $this->runDueCron());
        $this->assertSame('active', KCTMappingRepository::find(511)['status']);
        $this->assertCount(1, self::zoomMeetings());
    }

    public function testAnExpiredTokenIsRefreshedAndRotated(): void
    {
        $before = get_user_meta($this->doctor, 'kct_zoom_oauth_tokens', true);
        self::zoom('fault', ['kind' => 'expire_token']);
        $r = $this->provider()->create_meeting($this->bookingData(512));
        $this->assertIsArray($r, is_wp_error($r) ? $r->get_error_message() : '');
        wp_cache_delete($this->doctor, 'user_meta');
        $this->assertNotSame($before, get_user_meta($this->doctor, 'kct_zoom_oauth_tokens', true), 'both tokens replaced');
        $this->assertSame(2, self::zoomStats()['calls']['oauth.token'], 'code exchange, then one refresh');
    }

    /** CONTRACT §8.7: KiviCare rolls its booking transaction back after create_meeting. */
    public function testARolledBackBookingLeavesNoMeetingAtZoom(): void
    {
        global $wpdb;
        $p = $this->provider();
        $p->create_meeting($this->bookingData(514));
        KCTMeetingService::deleteRolledBack(); // a committed booking: nothing to undo
        $this->assertCount(1, self::zoomMeetings());
        $wpdb->query('SAVEPOINT kiviCare_booking');
        $r = $p->create_meeting($this->bookingData(515));
        $this->assertIsArray($r);
        $this->assertCount(2, self::zoomMeetings());
        $wpdb->query('ROLLBACK TO SAVEPOINT kiviCare_booking'); // core's failure after create_meeting
        $this->assertNull(KCTMappingRepository::find(515));
        $this->assertSame([(string) $r['id']], KCTMeetingService::deleteRolledBack());
        $this->assertCount(1, self::zoomMeetings(), 'the orphan was deleted at Zoom');
        $this->assertSame('active', KCTMappingRepository::find(514)['status'], 'the committed booking keeps its meeting');
    }

    public function testVideoConsultationFlag(): void
    {
        $this->provider()->create_meeting($this->bookingData(513));
        $this->assertTrue(apply_filters('kc_is_video_consultation', false, 513));
        $this->assertFalse(apply_filters('kc_is_video_consultation', false, 514));
    }
}
