<?php
use KCTApp\meetings\KCTMeetingLoop;
use KCTApp\meetings\KCTQueue;
use KCTApp\meetings\KCTStartLink;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\storage\KCTSideDb;
use KCTApp\telemed\KCTZoom;

/**
 * An appointment's meeting through its life, driven as KiviCare core drives it: through the
 * provider built by the (test-only) stand-in of its abstract class, its actions, and its
 * appointments table, in KiviCare 4.3.0's order (CONTRACT §3, §9).
 */
final class LifecycleTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

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
        $this->captureMails();
    }

    private function provider(): KCTZoom
    {
        $providers = apply_filters('kc_telemed_providers', []);
        $this->assertSame(KCTZoom::class, $providers['zoom']['class']);
        $p = new $providers['zoom']['class']($providers['zoom']['settings_key']);
        $p->init_hook();
        return $p;
    }

    /**
     * KiviCare's booking (CONTRACT §3 A): the appointment row is written first, then
     * create_meeting gets the local time in the appointment's zone.
     */
    private function bookingData(int $id, string $localStart = '2030-01-01 15:30:00', int $status = 1): array
    {
        $this->bookAppointment($id, $this->doctor, $this->patient, $localStart, 30, 'Asia/Kolkata', $status);
        return ['topic' => 'General consultation', 'type' => 'scheduled', 'start_time' => $localStart, 'duration' => 30,
            'timezone' => 'Asia/Kolkata', 'password' => '', 'waiting_room' => false, 'auto_recording' => false,
            'host_video' => true, 'participant_video' => true, 'mute_upon_entry' => true,
            'patient_id' => $this->patient, 'doctor_id' => $this->doctor, 'appointment_id' => $id];
    }

    /**
     * Issue 14: the step decides the token and builds the request, and the next step reads
     * Zoom's answer itself, so a booking costs two core calls.
     */
    public function testABookingCostsTwoCoreCalls(): void
    {
        $p = $this->provider();
        $data = $this->bookingData(590);
        $before = \KCTApp\wasm\KCTCore::$calls;
        $r = $p->create_meeting($data);
        $this->assertIsArray($r, is_wp_error($r) ? $r->get_error_message() : '');
        $this->assertSame(2, \KCTApp\wasm\KCTCore::$calls - $before, 'step (token decided, request built), step (answer read)');
        $this->assertSame('active', KCTMappingRepository::find(590)['status']);
    }

    /** Issue 14: reading an appointment is one query (no `SHOW TABLES` before it). */
    public function testReadingAnAppointmentIsOneQuery(): void
    {
        global $wpdb;
        $this->assertIsArray($this->provider()->create_meeting($this->bookingData(591)));
        // As in a new request: nothing known about KiviCare's tables yet.
        $tables = new \ReflectionProperty(\KCTApp\meetings\KCTAppointments::class, 'tables');
        $tables->setAccessible(true);
        $tables->setValue(null, []);
        $before = $wpdb->num_queries;
        $a = \KCTApp\meetings\KCTAppointments::now(591);
        $this->assertSame(1, $wpdb->num_queries - $before);
        $this->assertTrue($a['known']);
        $this->assertTrue($a['exists']);
        $this->assertSame($this->doctor, $a['doctor_id']);
    }

    /** A `query` filter under which reads of KiviCare's appointments fail (the table is there, the query is not answered). */
    private static function appointmentsUnanswered(): callable
    {
        return static function (string $q): string {
            return (string) preg_replace('/\bFROM (\w*kc_appointments) WHERE/', 'FROM $1_unanswered WHERE', $q);
        };
    }

    /**
     * A read of KiviCare's table that fails (the table is there, the query is not answered)
     * leaves the appointment unknown: its meeting stays. It used to read as deleted.
     */
    public function testAnAppointmentThatCannotBeReadIsUnknownAndKeepsItsMeeting(): void
    {
        $this->assertIsArray($this->provider()->create_meeting($this->bookingData(592)));
        $meetings = count(self::zoomMeetings());
        $unanswered = self::appointmentsUnanswered();
        add_filter('query', $unanswered);
        try {
            $a = \KCTApp\meetings\KCTAppointments::now(592);
            $this->assertFalse($a['known']);
            $this->assertTrue($a['exists']);
            KCTMeetingLoop::run(592, 'ensure');
        } finally {
            remove_filter('query', $unanswered);
        }
        $this->assertSame('active', KCTMappingRepository::find(592)['status']);
        $this->assertCount($meetings, self::zoomMeetings(), 'nothing deleted at Zoom');
    }

    /**
     * Issue 14: the row is written with prepared queries, so a booking never asks for the
     * mapping table's columns (wpdb's `SHOW FULL COLUMNS`, 0.3 to 0.4 ms); a value that does
     * not fit its column is still refused and changes nothing, and text that is not ASCII
     * is kept as it was written.
     */
    public function testTheRowIsWrittenWithoutAskingForItsColumnsAndOnlyWhenItFits(): void
    {
        $asked = [];
        $watch = static function (string $q) use (&$asked): string {
            if (stripos($q, 'SHOW FULL COLUMNS') !== false) {
                $asked[] = $q;
            }
            return $q;
        };
        self::forgetColumnMeta();
        add_filter('query', $watch);
        $this->assertIsArray($this->provider()->create_meeting($this->bookingData(593)));
        remove_filter('query', $watch);
        $this->assertSame([], array_values(array_filter($asked, static function (string $q): bool {
            return strpos($q, KCTMappingRepository::table()) !== false;
        })));
        $row = KCTMappingRepository::find(593);
        $this->assertSame('active', $row['status']);

        // Too long for `password varchar(64)`: refused, the row as it was.
        $this->assertFalse(KCTMappingRepository::compareAndSwap(['password' => str_repeat('p', 65)] + $row, $row['version']));
        $this->assertSame($row, KCTMappingRepository::find(593));
        $this->assertFalse(KCTMappingRepository::insert(['appointment_id' => 594, 'host' => str_repeat('h', 192) . '@x.org'] + $row));
        $this->assertNull(KCTMappingRepository::find(594));
        // 64 characters of two bytes each fit, as the column counts characters.
        $this->assertTrue(KCTMappingRepository::compareAndSwap(['password' => str_repeat('é', 64)] + $row, $row['version']));
        $row = KCTMappingRepository::find(593);
        $this->assertSame(str_repeat('é', 64), $row['password']);
        // Not ASCII, and not UTF-8.
        $error = 'zoom_error: Zoom a répondu « indisponible » 😀';
        $this->assertTrue(KCTMappingRepository::compareAndSwap(['last_error' => $error] + $row, $row['version']));
        $row = KCTMappingRepository::find(593);
        $this->assertSame($error, $row['last_error']);
        $this->assertFalse(KCTMappingRepository::compareAndSwap(['last_error' => "bad \xff byte"] + $row, $row['version']));
        $this->assertSame($row, KCTMappingRepository::find(593));
    }

    /** The lengths the row writers check are their tables' own, every varchar column included. */
    public function testTheRowWritersKnowEveryVarcharColumnsLength(): void
    {
        global $wpdb;
        foreach ([KCTMappingRepository::class, \KCTApp\visits\KCTVisits::class] as $class) {
            $table = $class::table();
            $schema = [];
            foreach ((array) $wpdb->get_results("SHOW FULL COLUMNS FROM `$table`", ARRAY_A) as $c) {
                if (preg_match('/^varchar\((\d+)\)/', $c['Type'], $m)) {
                    $schema[$c['Field']] = (int) $m[1];
                }
            }
            $known = (new \ReflectionClassConstant($class, 'VARCHAR'))->getValue();
            ksort($schema);
            ksort($known);
            $this->assertNotEmpty($schema, $table);
            $this->assertSame($schema, $known, $table);
        }
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
        $this->assertSame([], $this->mails, 'KiviCare mails the links of a booking itself');
        // Payment success calls create_meeting again (CONTRACT §3 B): still one meeting.
        $p->create_meeting($this->bookingData(501));
        do_action('kc_appointment_payment_completed', 501, ['doctor_id' => $this->doctor]);
        $this->assertCount(1, self::zoomMeetings());
        $this->assertSame($row['zoom_id'], $p->get_meeting_by_appointment(501)->zoomId);
    }

    /** CONTRACT §9: KiviCare calls update_meeting before it writes the new times. */
    public function testRescheduleUsesWhatKiviCarePassesNotTheStaleRow(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(502));
        $zoomId = $p->get_meeting_by_appointment(502)->zoomId;
        $updatesBefore = self::zoomStats()['calls']['meetings.update'] ?? 0;
        // KiviCare's order: provider first (the row still holds the old start) ...
        $this->assertIsArray($p->update_meeting($zoomId, ['start_time' => '2030-01-02 09:00:00', 'duration' => 45, 'doctor_id' => $this->doctor]));
        $m = self::zoomMeetings()[0];
        $this->assertSame('2030-01-02T03:30:00Z', $m['start_time'], 'the new time, from what KiviCare passed');
        $this->assertSame(45, $m['duration']);
        // ... then the row, then kc_appointment_updated: nothing left to patch.
        $this->bookAppointment(502, $this->doctor, $this->patient, '2030-01-02 09:00:00', 45);
        do_action('kc_appointment_updated', 502, ['appointment_start_date' => '2030-01-02'], (object) ['id' => 502]);
        $this->assertSame($updatesBefore + 1, self::zoomStats()['calls']['meetings.update'], 'one PATCH, with the right time');
        $this->assertSame('2030-01-02T03:30:00Z', KCTMappingRepository::find(502)['start_time']);
    }

    public function testRegenerateReplacesInsteadOfDuplicatingAndSendsTheNewLinks(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(503));
        $old = $p->get_meeting_by_appointment(503)->zoomId;
        // Core's regenerate passes "now" and 30 minutes (§3 F, §8.4).
        $r = $p->create_meeting(['topic' => KCTZoom::REGENERATE_TOPIC, 'start_time' => current_time('mysql'), 'duration' => 30,
            'doctor_id' => $this->doctor, 'patient_id' => $this->patient, 'appointment_id' => 503, 'timezone' => 'Asia/Kolkata']);
        $this->assertIsArray($r, is_wp_error($r) ? $r->get_error_message() : '');
        $meetings = self::zoomMeetings();
        $this->assertCount(1, $meetings, 'the old meeting is deleted at Zoom');
        $this->assertNotSame($old, (string) $meetings[0]['id']);
        $this->assertSame('2030-01-01T10:00:00Z', $meetings[0]['start_time'], 'the stored schedule is kept');
        $this->assertSame((string) $meetings[0]['id'], KCTMappingRepository::find(503)['zoom_id']);
        $this->assertCount(1, $this->mailsTo($this->patient), 'the regenerate route sends no mail: the addon does');
        $this->assertStringContainsString($meetings[0]['join_url'], $this->mailsTo($this->patient)[0]['message']);
    }

    public function testDevelopersHooksFireOnceForCreationAndEnd(): void
    {
        $seen = [];
        $created = static function ($id) use (&$seen) {
            $seen[] = "created $id";
        };
        $ended = static function ($id, $status) use (&$seen) {
            $seen[] = "ended $id $status";
        };
        add_action('kct_zoom_meeting_created', $created, 10, 2);
        add_action('kct_zoom_meeting_ended_for_appointment', $ended, 10, 3);
        try {
            $p = $this->provider();
            $p->create_meeting($this->bookingData(590));
            $p->create_meeting($this->bookingData(590));
            $this->setAppointment(590, ['status' => 0]);
            do_action('kc_appointment_cancelled', 590);
            do_action('kc_appointment_cancelled', 590);
        } finally {
            remove_action('kct_zoom_meeting_created', $created, 10);
            remove_action('kct_zoom_meeting_ended_for_appointment', $ended, 10);
        }
        $this->assertSame(['created 590', 'ended 590 cancelled'], $seen);
    }

    public function testCancelAndDeleteReachZoomInKiviCaresOrder(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(504));
        $p->create_meeting($this->bookingData(505));
        // Cancellation: KiviCare writes status 0, then fires its actions (§5).
        $this->setAppointment(504, ['status' => 0]);
        do_action('kc_appointment_status_update', 504, 0, null);
        do_action('kc_appointment_cancelled', 504);
        $this->assertSame('cancelled', KCTMappingRepository::find(504)['status']);
        $this->assertNull($p->get_meeting_by_appointment(504));
        // Deletion: the provider is asked first, then the row goes, then the action (§3 D).
        $this->assertTrue($p->cancel_meeting_by_appointment(505));
        $this->deleteAppointment(505);
        do_action('kc_appointment_deleted', 505, null);
        $this->assertSame('deleted', KCTMappingRepository::find(505)['status']);
        $this->assertCount(0, self::zoomMeetings());
        $this->assertTrue($p->cancel_meeting_by_appointment(999999), 'no mapping: a no-op');
    }

    public function testLaterConfirmationCreatesTheMeetingAndSendsTheLinks(): void
    {
        // Pay later: booked as pending (2), no meeting; confirmed later (§8.1).
        $this->bookAppointment(506, $this->doctor, $this->patient, '2030-03-01 10:00:00', 20, 'Asia/Kolkata', 2);
        $this->addTelemedService(506, $this->doctor);
        // Another doctor's telemedicine flag on the same service must not count (§8.14).
        $this->bookAppointment(507, $this->doctor, $this->patient, '2030-03-01 11:00:00', 20, 'Asia/Kolkata', 2);
        $this->addTelemedService(507, $this->makeUser('kiviCare_doctor'), 78);
        $this->addTelemedService(507, $this->doctor, 78, 'no');
        foreach ([506, 507] as $id) {
            // What KiviCare passes: its appointment, with no telemedicine flag on it.
            $this->setAppointment($id, ['status' => 1]);
            do_action('kc_appointment_status_update', $id, 1, (object) ['id' => $id, 'doctorId' => $this->doctor, 'patientId' => $this->patient]);
        }
        $this->assertNull(KCTMappingRepository::find(507), 'not a telemedicine appointment of this doctor');
        $row = KCTMappingRepository::find(506);
        $this->assertSame('active', $row['status']);
        $m = self::zoomMeetings()[0];
        $this->assertSame('2030-03-01T04:30:00Z', $m['start_time']);
        $this->assertSame(20, $m['duration']);
        $this->assertCount(1, $this->mailsTo($this->patient), 'KiviCare sends nothing here (§8.11): the addon does');
        $this->assertCount(1, $this->mailsTo($this->doctor));
        // Found by review: the addon's own mail was a bare link, with no word of when or with whom.
        $toPatient = $this->mailsTo($this->patient)[0]['message'];
        $this->assertStringContainsString('March 1, 2030 10:00 am IST', $toPatient, 'in the appointment\'s own zone');
        $this->assertStringContainsString(get_userdata($this->doctor)->display_name, $toPatient);
        $toDoctor = $this->mailsTo($this->doctor)[0]['message'];
        $this->assertStringContainsString('March 1, 2030 10:00 am IST', $toDoctor);
        $this->assertStringContainsString(get_userdata($this->patient)->display_name, $toDoctor);
        $this->setAppointment(506, ['status' => 0]);
        do_action('kc_appointment_status_update', 506, 0, null);
        $this->assertSame('cancelled', KCTMappingRepository::find(506)['status']);
    }

    /**
     * The status KiviCare set is read by the core, which decides what it asks for: pending asks
     * for nothing, checked in for a meeting, checked out keeps the meeting; where KiviCare's
     * table cannot be read, the status KiviCare passed stands in (a cancellation still ends
     * the meeting). The hook used to spell KiviCare's statuses in PHP.
     */
    public function testTheStatusKiviCareSetIsDecidedByTheCoreEvenWhereItsTableCannotBeRead(): void
    {
        $id = 520;
        $this->bookAppointment($id, $this->doctor, $this->patient, '2030-03-02 10:00:00', 20, 'Asia/Kolkata', 2);
        $this->addTelemedService($id, $this->doctor);
        $passed = (object) ['id' => $id, 'doctorId' => $this->doctor, 'patientId' => $this->patient];
        do_action('kc_appointment_status_update', $id, 2, $passed);
        $this->assertNull(KCTMappingRepository::find($id), 'pending: no meeting, no row');
        $this->setAppointment($id, ['status' => 4]);
        do_action('kc_appointment_status_update', $id, 4, $passed);
        $this->assertTrue(KCTMappingRepository::isLive(KCTMappingRepository::find($id)), 'checked in without a meeting: one is made');
        $this->assertCount(1, self::zoomMeetings());
        $this->setAppointment($id, ['status' => 3]);
        do_action('kc_appointment_status_update', $id, 3, $passed);
        $this->assertTrue(KCTMappingRepository::isLive(KCTMappingRepository::find($id)), 'checked out: the meeting stays');
        $this->assertCount(1, self::zoomMeetings());
        $this->setAppointment($id, ['status' => 0]);
        $unanswered = self::appointmentsUnanswered();
        add_filter('query', $unanswered);
        try {
            $this->assertFalse(\KCTApp\meetings\KCTAppointments::now($id)['known']);
            do_action('kc_appointment_status_update', $id, 0, $passed);
        } finally {
            remove_filter('query', $unanswered);
        }
        $this->assertSame('cancelled', KCTMappingRepository::find($id)['status'], 'the status KiviCare passed stands in');
        $this->assertCount(0, self::zoomMeetings());
    }

    /**
     * Where KiviCare's table cannot be read, the meeting's length comes from what KiviCare
     * passed: an appointment that runs past midnight ends the next day. It used to be made
     * one minute long (its end time read on the start's date).
     */
    public function testAnAppointmentPastMidnightKeepsItsLengthFromWhatKiviCarePassed(): void
    {
        $id = 521;
        $this->bookAppointment($id, $this->doctor, $this->patient, '2030-03-02 23:40:00', 30, 'Asia/Kolkata', 1);
        $this->addTelemedService($id, $this->doctor);
        global $wpdb;
        $passed = $wpdb->get_row($wpdb->prepare("SELECT * FROM {$wpdb->prefix}kc_appointments WHERE id = %d", $id));
        $this->assertSame('2030-03-03', $passed->appointment_end_date);
        $unanswered = self::appointmentsUnanswered();
        add_filter('query', $unanswered);
        try {
            do_action('kc_appointment_status_update', $id, 1, $passed);
        } finally {
            remove_filter('query', $unanswered);
        }
        $this->assertTrue(KCTMappingRepository::isLive(KCTMappingRepository::find($id)));
        $m = self::zoomMeetings()[0];
        $this->assertSame(30, $m['duration']);
        $this->assertSame('2030-03-02T18:10:00Z', $m['start_time']);
    }

    /**
     * A subclass of the provider that deletes a meeting's record (KiviCare never does) deletes
     * the meeting at Zoom and keeps the row: dropping the row used to leave the meeting
     * orphaned at Zoom.
     */
    public function testDeletingAMeetingsRecordLeavesNoMeetingAtZoomAndKeepsTheRow(): void
    {
        $this->provider()->create_meeting($this->bookingData(522));
        $zoomId = KCTMappingRepository::find(522)['zoom_id'];
        $subclass = new class (\KCTApp\settings\KCTSettings::OPTION) extends KCTZoom {
            public function deleteRecord($id)
            {
                return $this->delete_meeting_record($id);
            }
        };
        $this->assertTrue($subclass->deleteRecord($zoomId));
        $row = KCTMappingRepository::find(522);
        $this->assertNotNull($row, 'the row is kept');
        $this->assertSame('deleted', $row['status']);
        $this->assertCount(0, self::zoomMeetings());
    }

    /**
     * While Zoom has not yet confirmed a cancelled appointment's meeting deleted (the delete is
     * retried), the row still holds its link: the patient's meeting route no longer hands it out.
     */
    public function testACancelledMeetingsLinkIsNotHandedOutWhileZoomHasNotDeletedIt(): void
    {
        $this->provider()->create_meeting($this->bookingData(523));
        self::zoom('fault', ['kind' => 'server_error', 'count' => 5, 'path_prefix' => '/v2/meetings/']);
        try {
            $this->setAppointment(523, ['status' => 0]);
            do_action('kc_appointment_cancelled', 523);
        } finally {
            self::zoom('clear-faults');
        }
        $row = KCTMappingRepository::find(523);
        $this->assertSame('cancelled', $row['status']);
        $this->assertNotEmpty($row['join_url'], 'the delete is still owed');
        $this->assertCount(1, self::zoomMeetings());
        wp_set_current_user($this->patient);
        $links = rest_do_request(new \WP_REST_Request('GET', '/kct-zoom/v1/settings/zoom-telemed/meeting/523'))->get_data()['data'];
        wp_set_current_user(0);
        $this->assertSame('cancelled', $links['status']);
        $this->assertNull($links['join_url']);
    }

    /**
     * Found by review: KiviCare's appointment edit form sets the status through
     * `PUT appointments/{id}`, which fires only `kc_appointment_updated`. A pending appointment
     * confirmed there had no meeting yet, so the update was ignored and none was ever made.
     */
    public function testAnAppointmentConfirmedInKiviCaresEditFormGetsItsMeeting(): void
    {
        $this->bookAppointment(524, $this->doctor, $this->patient, '2030-03-05 10:00:00', 20, 'Asia/Kolkata', 2);
        $this->addTelemedService(524, $this->doctor);
        // KiviCare writes the row, then fires the hook with the fields it changed.
        $this->setAppointment(524, ['status' => 1]);
        do_action('kc_appointment_updated', 524, ['status' => '1'], (object) ['id' => 524, 'doctorId' => $this->doctor, 'patientId' => $this->patient]);
        $this->assertTrue(KCTMappingRepository::isLive(KCTMappingRepository::find(524)));
        $this->assertCount(1, self::zoomMeetings());
        $this->assertCount(1, $this->mailsTo($this->patient), 'KiviCare sends no link here: the addon does');
        // An edit that leaves a pending appointment pending makes nothing.
        $this->bookAppointment(525, $this->doctor, $this->patient, '2030-03-05 11:00:00', 20, 'Asia/Kolkata', 2);
        $this->addTelemedService(525, $this->doctor);
        do_action('kc_appointment_updated', 525, ['status' => '2'], (object) ['id' => 525]);
        $this->assertNull(KCTMappingRepository::find(525));
    }

    public function testPatientDeletionRemovesTheirMeetings(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(507));
        $p->create_meeting($this->bookingData(508));
        $this->deleteAppointment(507);
        $this->deleteAppointment(508);
        do_action('kc_patient_delete', $this->patient);
        $this->assertCount(0, self::zoomMeetings());
        $this->assertSame('deleted', KCTMappingRepository::find(508)['status']);
    }

    public function testStartLinkIsFreshForTheHost(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(509));
        $first = KCTStartLink::get(509);
        $this->assertSame($first, KCTStartLink::get(509), 'fetched moments ago: reused');
        $row = KCTMappingRepository::find(509);
        $row['start_url_fetched_at'] = time() - 600;
        $this->assertTrue(KCTMappingRepository::compareAndSwap($row, $row['version']));
        $gets = self::zoomStats()['calls']['meetings.get'] ?? 0;
        $fresh = KCTStartLink::get(509);
        $this->assertNotSame($first, $fresh, 'older than five minutes: fetched again');
        $this->assertStringContainsString('zak=', $fresh);
        $this->assertSame($gets + 1, self::zoomStats()['calls']['meetings.get']);
        // The row the core shaped keeps it, fetched now: the next view reuses it.
        $stored = KCTMappingRepository::find(509);
        $this->assertSame($fresh, $stored['start_url']);
        $this->assertEqualsWithDelta(time(), (int) $stored['start_url_fetched_at'], 5);
        $this->assertSame($row['version'] + 2, (int) $stored['version'], 'one write for the fetch');
        $this->assertSame($fresh, KCTStartLink::get(509), 'stored: reused');
        $this->assertSame($gets + 1, self::zoomStats()['calls']['meetings.get'], 'not fetched again');
    }

    /**
     * Found by review: a meeting deleted in Zoom behind our back (no webhook) left the
     * doctor's Start answering "the meeting no longer exists" until the nightly reconcile.
     * Now the core asks for the meeting to be verified: it is made again, the patient gets
     * the new link, and the doctor starts the new meeting.
     */
    public function testTheDoctorsStartRemakesAMeetingZoomLostBehindOurBack(): void
    {
        $this->provider()->create_meeting($this->bookingData(517));
        $lost = KCTMappingRepository::find(517);
        $this->assertNull(\KCTApp\zoom\KCTZoomApi::call($this->doctor, 'delete_meeting', static function ($core, $auth) use ($lost) {
            return $core->meetingDelete(['auth' => $auth, 'meeting_id' => $lost['zoom_id']]);
        }));
        $lost['start_url_fetched_at'] = time() - 600; // the stored link is old: Start fetches
        $this->assertTrue(KCTMappingRepository::compareAndSwap($lost, $lost['version']));
        $this->mails = [];

        $url = KCTStartLink::get(517);
        $this->assertIsString($url, is_wp_error($url) ? $url->get_error_message() : '');
        $row = KCTMappingRepository::find(517);
        $this->assertSame('active', $row['status']);
        $this->assertNotSame($lost['zoom_id'], $row['zoom_id'], 'made again');
        $this->assertStringContainsString('/s/' . $row['zoom_id'], $url, 'the new meeting\'s start link');
        $this->assertSame([$row['zoom_id']], array_map('strval', array_column(self::zoomMeetings(), 'id')), 'one live meeting at Zoom');
        $this->assertCount(1, $this->mailsTo($this->patient), 'the patient is told');
        $this->assertStringContainsString($row['join_url'], $this->mailsTo($this->patient)[0]['message']);
        $this->assertSame($url, KCTStartLink::get(517), 'then reused');
    }

    public function testAnInterruptedCreateIsRecoveredNotRepeated(): void
    {
        self::zoom('fault', ['kind' => 'drop_after_create', 'path_prefix' => '/v2/users']);
        $r = $this->provider()->create_meeting($this->bookingData(510));
        $this->assertInstanceOf(\WP_Error::class, $r);
        $this->assertSame('kct_retry_later', $r->get_error_code());
        $row = KCTMappingRepository::find(510);
        $this->assertSame('pending', $row['status'], 'the reservation stays for recovery');
        $this->assertTrue($row['unconfirmed'], 'the create may have reached Zoom');
        $this->assertNotNull(KCTQueue::next(510), 'a retry is queued');
        $this->assertCount(1, self::zoomMeetings(), 'Zoom did create it');
        $soon = $this->provider()->create_meeting($this->bookingData(510));
        $this->assertSame('kct_retry_later', $soon->get_error_code(), 'not looked for before the retry time');
        $this->runQueue();
        $again = $this->provider()->create_meeting($this->bookingData(510));
        $this->assertIsArray($again, is_wp_error($again) ? $again->get_error_message() : '');
        $this->assertCount(1, self::zoomMeetings(), 'recovered, not created twice');
        $this->assertSame((string) self::zoomMeetings()[0]['id'], KCTMappingRepository::find(510)['zoom_id']);
        $this->assertNull(KCTQueue::next(510), 'nothing left queued');
    }

    /** Recovery reads every page of the host's meetings, past ones included. */
    public function testRecoveryReadsEveryPage(): void
    {
        $p = $this->provider();
        foreach ([520, 521, 522] as $id) {
            $p->create_meeting($this->bookingData($id));
        }
        self::zoom('page-size', ['size' => 1]);
        self::zoom('fault', ['kind' => 'drop_after_create', 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $p->create_meeting($this->bookingData(523)));
        $this->runQueue();
        $this->assertCount(4, self::zoomMeetings(), 'found on the last page, not created again');
        $this->assertSame('active', KCTMappingRepository::find(523)['status']);
        $this->assertGreaterThanOrEqual(4, self::zoomStats()['calls']['meetings.list']);
    }

    public function testARateLimitIsRetriedLaterAndTheLinksAreSentThen(): void
    {
        self::zoom('fault', ['kind' => 'rate_limit', 'retry_after' => '30', 'path_prefix' => '/v2/users']);
        $r = $this->provider()->create_meeting($this->bookingData(511));
        $this->assertInstanceOf(\WP_Error::class, $r, 'a WP_Error keeps the booking in core (§3 A)');
        $this->assertGreaterThanOrEqual(time() + 25, $r->get_error_data()['retry_at'], 'Retry-After honoured');
        $row = KCTMappingRepository::find(511);
        $this->assertSame('pending', $row['status']);
        $this->assertSame(1, $row['attempt']);
        $this->assertSame([], $this->mails);
        $this->assertSame(1, $this->runQueue());
        $this->assertSame('active', KCTMappingRepository::find(511)['status']);
        $this->assertCount(1, self::zoomMeetings());
        $patientMail = $this->mailsTo($this->patient);
        $doctorMail = $this->mailsTo($this->doctor);
        $this->assertCount(1, $patientMail, 'a late meeting is announced to the patient');
        $this->assertCount(1, $doctorMail, 'and to the doctor');
        $this->assertStringContainsString(self::zoomMeetings()[0]['join_url'], $patientMail[0]['message']);
        $this->assertStringContainsString('admin-post.php?action=kct_zoom_start', $doctorMail[0]['message']);
        $this->assertStringNotContainsString('zak=', $doctorMail[0]['message'], 'never the expiring host credential');
    }

    public function testRetriesBackOffAndGiveUp(): void
    {
        self::zoom('fault', ['kind' => 'server_error', 'count' => 50, 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $this->provider()->create_meeting($this->bookingData(530)));
        $gaps = [];
        for ($i = 0; $i < 12 && KCTQueue::next(530) !== null; $i++) {
            $row = KCTMappingRepository::find(530);
            $gaps[] = $row['next_attempt_at'] - time();
            $this->runQueue();
        }
        $row = KCTMappingRepository::find(530);
        $this->assertSame('failed', $row['status'], json_encode($gaps));
        $this->assertStringStartsWith('retries_exhausted', $row['last_error']);
        $this->assertNull(KCTQueue::next(530), 'given up: nothing queued');
        $this->assertCount(8, $gaps, 'eight attempts after the first');
        $this->assertGreaterThan($gaps[0] * 4, $gaps[5], 'the waits grow: ' . json_encode($gaps));
        $this->assertLessThanOrEqual(3600, max($gaps));
        $this->assertCount(0, self::zoomMeetings());
    }

    /** Found in KiviCare: 40 deleted appointments with pending retries gave 40 meetings. */
    public function testARetryNeverOutlivesItsAppointment(): void
    {
        $p = $this->provider();
        self::zoom('fault', ['kind' => 'server_error', 'count' => 2, 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $p->create_meeting($this->bookingData(540)));
        $this->assertInstanceOf(\WP_Error::class, $p->create_meeting($this->bookingData(541)));
        // 540 deleted through KiviCare's route; 541's row vanished with no hook at all.
        $p->cancel_meeting_by_appointment(540);
        $this->deleteAppointment(540);
        do_action('kc_appointment_deleted', 540, null);
        $this->deleteAppointment(541);
        $this->runQueue();
        $this->assertCount(0, self::zoomMeetings(), 'no meeting for an appointment that is gone');
        $this->assertSame('deleted', KCTMappingRepository::find(540)['status']);
        $this->assertSame('deleted', KCTMappingRepository::find(541)['status']);
        $this->assertNull(KCTQueue::next(541));
    }

    public function testACancelIsRetriedUntilZoomConfirms(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(550));
        self::zoom('fault', ['kind' => 'server_error', 'path_prefix' => '/v2/meetings']);
        $this->setAppointment(550, ['status' => 0]);
        do_action('kc_appointment_cancelled', 550);
        $row = KCTMappingRepository::find(550);
        $this->assertSame('cancelled', $row['status'], 'the patient loses the link at once');
        $this->assertSame('cancel', $row['intent'], 'the delete at Zoom is still owed');
        $this->assertCount(1, self::zoomMeetings());
        $this->assertNull($p->get_meeting_by_appointment(550));
        $this->runQueue();
        $this->assertCount(0, self::zoomMeetings(), 'deleted on the retry');
        $this->assertNull(KCTMappingRepository::find(550)['intent']);
    }

    public function testReassignmentMovesTheMeetingToTheNewDoctor(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(560));
        self::zoom('consent-as', ['email' => 'second.doctor@clinic.example']);
        $second = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($second);
        $old = KCTMappingRepository::find(560)['zoom_id'];
        $this->setAppointment(560, ['doctor_id' => $second]);
        do_action('kc_appointment_updated', 560, ['doctor_id' => $second], (object) ['id' => 560]);
        $row = KCTMappingRepository::find(560);
        $this->assertSame($second, $row['doctor_id']);
        $this->assertNotSame($old, $row['zoom_id']);
        $meetings = self::zoomMeetings();
        $this->assertCount(1, $meetings, 'the old host\'s meeting is gone');
        $this->assertSame('second.doctor@clinic.example', $meetings[0]['host_email']);
        $this->assertCount(1, $this->mailsTo($second), 'the new doctor gets the start link');
    }

    public function testWithoutARuntimeTheIntentIsKeptAndMadeLater(): void
    {
        self::withoutRuntime(function () {
            $r = $this->provider()->create_meeting($this->bookingData(570));
            $this->assertInstanceOf(\WP_Error::class, $r);
            $this->assertSame('kct_runtime_unavailable', $r->get_error_code());
            $row = KCTMappingRepository::find(570);
            $this->assertNotNull($row, 'the intent is recorded');
            $this->assertStringStartsWith('runtime_unavailable', $row['last_error'], 'administrators see why it waits');
            $this->assertNotNull(KCTQueue::next(570));
        });
        $this->assertCount(0, self::zoomMeetings());
        $this->runQueue();
        $this->assertSame('active', KCTMappingRepository::find(570)['status'], 'made once the runtime works');
        $this->assertCount(1, self::zoomMeetings());
        $this->assertCount(1, $this->mailsTo($this->patient));
    }

    /**
     * Status changes while the runtime is unavailable: each is recorded as asked (the status
     * screen names it), and once the runtime works the core reads the status. A confirmation
     * gets its meeting; a move to pending payment asks for nothing, and its row, which never
     * reached Zoom, is deleted instead of staying listed as a meeting being made.
     */
    public function testAStatusChangeWithoutARuntimeIsDecidedOnceItWorks(): void
    {
        foreach ([571 => 1, 572 => 2] as $id => $status) {
            $this->bookAppointment($id, $this->doctor, $this->patient, '2030-03-04 10:00:00', 20, 'Asia/Kolkata', $status);
            $this->addTelemedService($id, $this->doctor);
        }
        self::withoutRuntime(function () {
            foreach ([571 => 1, 572 => 2] as $id => $status) {
                do_action('kc_appointment_status_update', $id, $status, (object) ['id' => $id, 'doctorId' => $this->doctor, 'patientId' => $this->patient]);
            }
        });
        foreach ([571, 572] as $id) {
            $row = KCTMappingRepository::find($id);
            $this->assertSame('status_changed', $row['intent']);
        }
        $this->assertSame("act on the appointment's new status", \KCTApp\admin\KCTStatusWords::work($row['intent']));
        $this->assertCount(0, self::zoomMeetings());
        $this->runQueue();
        $row = KCTMappingRepository::find(571);
        $this->assertTrue(KCTMappingRepository::isLive($row), 'made once the runtime works');
        $this->assertNull($row['intent']);
        $this->assertCount(1, self::zoomMeetings());
        $this->assertNull(KCTMappingRepository::find(572), 'pending payment: no meeting and no row');
    }

    public function testAnExpiredTokenIsRefreshedAndRotated(): void
    {
        $before = KCTSideDb::getUserMeta($this->doctor, 'kct_zoom_oauth_tokens');
        self::zoom('fault', ['kind' => 'expire_token']);
        $r = $this->provider()->create_meeting($this->bookingData(512));
        $this->assertIsArray($r, is_wp_error($r) ? $r->get_error_message() : '');
        $this->assertNotSame($before, KCTSideDb::getUserMeta($this->doctor, 'kct_zoom_oauth_tokens'), 'both tokens replaced');
        $this->assertSame(2, self::zoomStats()['calls']['oauth.token'], 'code exchange, then one refresh');
        // The step read Zoom's 401 itself and asked for the same create with the token
        // renewed: one refused create, one made, one meeting.
        $this->assertSame(2, self::zoomStats()['calls']['meetings.create']);
        $this->assertCount(1, self::zoomMeetings());
        $this->assertSame('active', KCTMappingRepository::find(512)['status']);
    }

    /** CONTRACT §8.7: KiviCare rolls its booking transaction back after create_meeting. */
    public function testARolledBackBookingLeavesNoMeetingAtZoom(): void
    {
        global $wpdb;
        $p = $this->provider();
        $p->create_meeting($this->bookingData(514));
        KCTMeetingLoop::settleRolledBack(); // a committed booking: nothing to undo
        $this->assertCount(1, self::zoomMeetings());
        $wpdb->query('SAVEPOINT kiviCare_booking');
        $r = $p->create_meeting($this->bookingData(515));
        $this->assertIsArray($r);
        $this->assertCount(2, self::zoomMeetings());
        $wpdb->query('ROLLBACK TO SAVEPOINT kiviCare_booking'); // core's failure after create_meeting
        $this->assertNull(KCTMappingRepository::find(515));
        $this->assertSame([515], KCTMeetingLoop::settleRolledBack(), 'the row is restored, and the core resumes it');
        $this->assertCount(1, self::zoomMeetings(), 'the orphan was deleted at Zoom');
        $this->assertSame('deleted', KCTMappingRepository::find(515)['status']);
        $this->assertSame('active', KCTMappingRepository::find(514)['status'], 'the committed booking keeps its meeting');
    }

    /** A rolled-back booking whose create answer was lost: found by reference, deleted. */
    public function testARolledBackBookingWithALostAnswerLeavesNoMeeting(): void
    {
        global $wpdb;
        $p = $this->provider();
        $wpdb->query('SAVEPOINT kiviCare_booking');
        self::zoom('fault', ['kind' => 'drop_after_create', 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $p->create_meeting($this->bookingData(516)));
        $this->assertCount(1, self::zoomMeetings(), 'Zoom made it; we never heard');
        $wpdb->query('ROLLBACK TO SAVEPOINT kiviCare_booking');
        $this->assertNull(KCTMappingRepository::find(516));
        $this->assertSame([516], KCTMeetingLoop::settleRolledBack());
        $this->assertCount(1, self::zoomMeetings(), 'Zoom may still be finishing that create: the search waits for the retry time');
        $this->assertNotNull(KCTQueue::next(516));
        $this->assertSame(1, $this->runQueue());
        $this->assertCount(0, self::zoomMeetings(), 'looked for by reference and deleted: ' . json_encode(KCTMappingRepository::find(516)));
    }

    /** WP-Cron's queue is one option: a concurrent write can lose an entry. The table is the truth. */
    public function testTheSweepResumesWorkWhoseQueuedResumeWasLost(): void
    {
        self::zoom('fault', ['kind' => 'server_error', 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $this->provider()->create_meeting($this->bookingData(580)));
        KCTQueue::clear(580); // lost
        $this->assertSame(0, KCTMeetingLoop::sweep(), 'not due yet');
        $row = KCTMappingRepository::find(580);
        $row['next_attempt_at'] = time() - 1;
        $this->assertTrue(KCTMappingRepository::compareAndSwap($row, $row['version']));
        $this->assertSame(1, KCTMeetingLoop::sweep());
        $this->assertSame('active', KCTMappingRepository::find(580)['status']);
        $this->assertSame(0, KCTMeetingLoop::sweep(), 'nothing owed any more');
    }

    /**
     * Found by the soak: a reschedule had read the appointment, a concurrent deletion came
     * and went, and the reschedule's loop then made a meeting for an appointment that no
     * longer existed. Every request now leaves a mark on the row, so the stale loop loses its
     * write and reads both again.
     */
    public function testALoopThatReadTheAppointmentBeforeItsDeletionLosesItsWrite(): void
    {
        $p = $this->provider();
        $p->create_meeting($this->bookingData(596));
        // KiviCare's delete, first half: the provider is asked; the appointment row still exists.
        $p->cancel_meeting_by_appointment(596);
        $row = KCTMappingRepository::find(596);
        $this->assertSame('deleted', $row['status']);
        // A concurrent reschedule read the row and the (still booked) appointment: it would
        // make a meeting again.
        $stale = \KCTApp\zoom\KCTCoreAccess::run(static function ($core) use ($row) {
            return $core->lifecycleStep(['appointment_id' => 596, 'intent' => 'ensure', 'row' => $row,
                'appointment' => \KCTApp\meetings\KCTAppointments::now(596), 'host' => 'me', 'now' => time(), 'random' => str_repeat('ab', 40)]);
        });
        $this->assertSame('call', $stale['effect']['do']);
        $this->assertSame('create_meeting', $stale['effect']['operation']);
        // KiviCare's delete, second half: the row goes, then its action. Nothing is left to
        // change on our row, yet the request leaves its mark.
        $this->deleteAppointment(596);
        do_action('kc_appointment_deleted', 596, null);
        $this->assertFalse(KCTMappingRepository::compareAndSwap($stale['write'], $row['version']), 'the stale claim loses: no create');
        $out = KCTMeetingLoop::run(596, 'ensure');
        $this->assertSame('deleted', $out['row']['status'], 'read again: the appointment is gone');
        $this->assertCount(0, self::zoomMeetings());
    }

    public function testVideoConsultationFlag(): void
    {
        $this->provider()->create_meeting($this->bookingData(513));
        $this->assertTrue(apply_filters('kc_is_video_consultation', false, 513));
        $this->assertFalse(apply_filters('kc_is_video_consultation', false, 514));
    }
}
