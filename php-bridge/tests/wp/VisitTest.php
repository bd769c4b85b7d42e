<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\storage\KCTSite;
use KCTApp\visits\KCTVisits;
use KCTApp\visits\KCTWaitingNotice;

/**
 * Issue 16: the visit itself, from Zoom's signed events over real HTTP: waiting, checked in,
 * checked out with the times recorded; a no-show; events for another account's meeting and
 * replays change nothing; the policy switch; "your patient is waiting".
 */
final class VisitTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private const SECRET = 'kctWebhookSecret0123456';
    private int $doctor = 0;
    private int $patient = 0;
    private string $doctorZoomId = '';
    private array $ids = [];

    protected function setUp(): void
    {
        parent::setUp();
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertTrue(KCTSettings::save(['webhook_secret' => self::SECRET, 'check_in_from_zoom' => true]));
        $this->doctor = $this->makeUser('kiviCare_doctor');
        $this->patient = $this->makeUser('kiviCare_patient', ['user_email' => 'visit.patient.' . wp_rand(1000, 9999) . '@example.org']);
        $this->connectDoctor($this->doctor);
        $this->doctorZoomId = (string) get_user_meta($this->doctor, KCTSite::userKey(KCTTokenStore::ZOOM_USER), true);
        $this->assertNotSame('', $this->doctorZoomId);
    }

    protected function tearDown(): void
    {
        global $wpdb;
        foreach ($this->ids as $id) {
            KCTMappingRepository::delete($id);
            $wpdb->delete(KCTVisits::table(), ['appointment_id' => $id]);
            $this->deleteAppointment($id);
        }
        KCTSettings::save(['check_in_from_zoom' => true]);
        parent::tearDown();
    }

    private function meeting(int $id): string
    {
        $this->ids[] = $id;
        $row = $this->ensureMeeting(['appointment_id' => $id, 'doctor_id' => $this->doctor, 'patient_id' => $this->patient,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']);
        $this->assertIsArray($row, is_wp_error($row) ? $row->get_error_message() : '');
        return (string) $row['zoom_id'];
    }

    private function event(string $event, array $object, string $secret = self::SECRET): array
    {
        $r = self::deliver($secret, $event, ['account_id' => 'fzAccountOAuth', 'object' => $object]);
        $this->assertSame(200, $r['status'], $r['body']);
        return $r;
    }

    private function participant(string $event, string $zoomId, array $who, string $time): array
    {
        $key = $event === 'meeting.participant_joined' ? 'join_time' : ($event === 'meeting.participant_left' ? 'leave_time' : 'date_time');
        return $this->event($event, ['id' => (int) $zoomId, 'uuid' => 'u', 'host_id' => $this->doctorZoomId,
            'participant' => $who + ['user_name' => 'Someone', $key => $time]]);
    }

    private function patientWho(): array
    {
        return ['user_id' => '1677', 'id' => '', 'email' => get_userdata($this->patient)->user_email];
    }

    private static function status(int $id): int
    {
        global $wpdb;
        return (int) $wpdb->get_var($wpdb->prepare("SELECT status FROM {$wpdb->prefix}kc_appointments WHERE id = %d", $id));
    }

    public function testAVisitGoesWaitingCheckedInCheckedOutWithItsTimes(): void
    {
        $zoomId = $this->meeting(990101);
        $this->participant('meeting.participant_put_in_waiting_room', $zoomId, $this->patientWho(), '2030-01-01T09:58:00Z');
        $v = KCTVisits::find(990101);
        $this->assertSame(strtotime('2030-01-01T09:58:00Z'), $v['waiting_since']);
        wp_set_current_user($this->doctor);
        ob_start();
        KCTWaitingNotice::render();
        $notice = (string) ob_get_clean();
        $this->assertStringContainsString('Your patient is waiting', $notice);
        $this->assertStringContainsString('appointment_id=990101', $notice, 'with the Start button');
        wp_set_current_user(0);

        $this->event('meeting.started', ['id' => (int) $zoomId, 'host_id' => $this->doctorZoomId, 'start_time' => '2030-01-01T09:59:00Z']);
        $this->participant('meeting.participant_joined', $zoomId, ['user_id' => '16', 'id' => $this->doctorZoomId], '2030-01-01T09:59:30Z');
        $this->assertSame(1, self::status(990101), 'the doctor alone checks no one in');
        $this->participant('meeting.participant_admitted', $zoomId, $this->patientWho(), '2030-01-01T10:00:00Z');
        $this->participant('meeting.participant_joined', $zoomId, $this->patientWho(), '2030-01-01T10:00:05Z');
        $this->assertSame(4, self::status(990101), 'checked in through KiviCare\'s status update');
        $v = KCTVisits::find(990101);
        $this->assertArrayNotHasKey('waiting_since', $v, 'the wait is over');
        $this->assertSame([], KCTVisits::waitingFor($this->doctor));

        $this->participant('meeting.participant_left', $zoomId, $this->patientWho(), '2030-01-01T10:25:05Z');
        $this->event('meeting.ended', ['id' => (int) $zoomId, 'host_id' => $this->doctorZoomId, 'end_time' => '2030-01-01T10:26:00Z']);
        $this->assertSame(3, self::status(990101), 'checked out');
        $v = KCTVisits::find(990101);
        $this->assertSame('checked_out', $v['outcome']);
        $this->assertSame('email', $v['patient_known_by']);
        $this->assertSame(strtotime('2030-01-01T10:00:05Z'), $v['patient_joined_at']);
        $this->assertSame(strtotime('2030-01-01T10:25:05Z'), $v['patient_left_at']);
        $this->assertSame(strtotime('2030-01-01T09:59:30Z'), $v['doctor_joined_at']);
        $this->assertSame(strtotime('2030-01-01T10:26:00Z'), $v['doctor_left_at'], 'no "left" came for the doctor: in until the meeting ended');
        $this->assertSame(25 * 60, $v['together_seconds']);
        // The deliveries list says which change each participant's delivery was.
        wp_set_current_user($this->makeUser('administrator'));
        $events = array_column(\KCTApp\admin\KCTStatusScreen::data(time())['webhooks'], 'event');
        wp_set_current_user(0);
        foreach (['participant_joined', 'participant_left', 'participant_admitted', 'meeting_ended'] as $event) {
            $this->assertContains($event, $events);
        }
    }

    /**
     * Issue 14: a webhook that moves a visit writes it with prepared queries, never asking for
     * the table's columns (wpdb's `SHOW FULL COLUMNS`, once per request). The actions are the
     * core's readings of verified deliveries, applied here in this process.
     */
    public function testWebhooksMoveAVisitWithoutAskingForItsColumns(): void
    {
        $zoomId = $this->meeting(990102);
        $email = get_userdata($this->patient)->user_email;
        $action = static function (string $change, int $at) use ($zoomId, $email): array {
            return ['action' => 'participant', 'change' => $change, 'at' => $at, 'meeting_id' => $zoomId,
                'delivery' => hash('sha256', $change), 'event_ts' => $at * 1000, 'participant' => ['email' => $email]];
        };
        $asked = [];
        $watch = static function (string $q) use (&$asked): string {
            if (stripos($q, 'SHOW FULL COLUMNS') !== false && strpos($q, KCTVisits::table()) !== false) {
                $asked[] = $q;
            }
            return $q;
        };
        $at = strtotime('2030-01-01T09:58:00Z');
        foreach (['waiting' => 0, 'admitted' => 120, 'joined' => 125] as $change => $after) {
            self::forgetColumnMeta(); // each delivery is a request of its own
            add_filter('query', $watch);
            KCTVisits::apply($action($change, $at + $after));
            remove_filter('query', $watch);
        }
        $this->assertSame([], $asked);
        $v = KCTVisits::find(990102);
        $this->assertSame($at + 125, $v['patient_joined_at']);
        $this->assertGreaterThanOrEqual(3, $v['version'], 'inserted, then updated twice');
    }

    /**
     * Found by review: when KiviCare refused the check-in (its status route said no), the
     * visit still said checked in, the hook announced it, and the status screen showed it,
     * while KiviCare's appointment stayed booked. Now the core records the refusal, the end
     * checks no one out, and the status screen says what to do.
     */
    public function testACheckInKiviCareRefusesIsRecordedAsRefusedNotAsDone(): void
    {
        $zoomId = $this->meeting(990109);
        $email = get_userdata($this->patient)->user_email;
        $at = strtotime('2030-01-01T10:00:00Z');
        $event = static function (array $e) use ($zoomId): array {
            return $e + ['meeting_id' => $zoomId, 'delivery' => hash('sha256', wp_json_encode($e)), 'event_ts' => $e['at'] * 1000];
        };
        $refuse = static function ($result, $server, \WP_REST_Request $request) {
            return preg_match('#^/kivicare/v1/appointments/\d+/status$#', $request->get_route())
                ? new \WP_Error('kc_refused', 'not now', ['status' => 409]) : $result;
        };
        $announced = [];
        $listen = static function ($id, $effect) use (&$announced) {
            $announced[] = $effect['do'];
        };
        add_action('kct_zoom_visit', $listen, 10, 2);
        add_filter('rest_pre_dispatch', $refuse, 10, 3);
        try {
            $this->assertTrue(KCTVisits::apply($event(['action' => 'participant', 'change' => 'joined', 'at' => $at,
                'participant' => ['zoom_user_id' => $this->doctorZoomId]])));
            $this->assertTrue(KCTVisits::apply($event(['action' => 'participant', 'change' => 'joined', 'at' => $at + 5,
                'participant' => ['email' => $email]])));
        } finally {
            remove_filter('rest_pre_dispatch', $refuse, 10);
        }
        $this->assertSame(1, self::status(990109), 'KiviCare kept it booked');
        $this->assertSame('checkin_refused', KCTVisits::find(990109)['outcome']);
        $this->assertNotContains('check_in', $announced, 'a refused check-in is not announced');

        KCTVisits::apply($event(['action' => 'meeting_ended', 'at' => $at + 1500]));
        remove_action('kct_zoom_visit', $listen, 10);
        $this->assertSame(1, self::status(990109), 'no check-out of a patient KiviCare never checked in');
        $v = KCTVisits::find(990109);
        $this->assertSame('checkin_refused', $v['outcome']);
        $this->assertSame(1495, $v['together_seconds']);
        wp_set_current_user($this->makeUser('administrator'));
        ob_start();
        \KCTApp\visits\KCTVisitTable::render([$v]);
        $table = (string) ob_get_clean();
        wp_set_current_user(0);
        $this->assertStringContainsString('KiviCare refused the check-in: check the patient in by hand', $table);
    }

    /** Zoom fills omitted AI Companion, passcode and waiting-room fields from the account: a visit says them all. */
    public function testEveryPrivacySettingIsSentExplicitly(): void
    {
        $zoomId = $this->meeting(990106);
        $made = array_values(array_filter(self::zoomMeetings(), static function ($m) use ($zoomId) {
            return (string) $m['id'] === $zoomId;
        }))[0];
        $sent = self::zoomSent('POST', '/meetings')[0];
        $this->assertSame($made['topic'], $sent['topic'], 'the request that made this meeting');
        foreach (['auto_start_meeting_summary' => false, 'auto_start_ai_companion_questions' => false,
            'auto_recording' => 'none', 'waiting_room' => true] as $field => $value) {
            $this->assertSame($value, $sent['settings'][$field] ?? null, "$field is sent, not left to the account");
        }
        $this->assertNotSame('', (string) ($sent['password'] ?? ''), 'a passcode is sent');
        // And Zoom keeps them over the account's own (the fake's account has the opposite).
        $settings = $made['settings'];
        $this->assertFalse($settings['auto_start_meeting_summary']);
        $this->assertFalse($settings['auto_start_ai_companion_questions']);
        $this->assertSame('none', $settings['auto_recording']);
        $this->assertTrue($settings['waiting_room']);
        $this->assertNotSame('', (string) $made['password'], 'a passcode, as the policy says');
    }

    /**
     * Found by review: KiviCare's own mails (its booking link mail, its reminders) carry the
     * mapping's `joinUrl`, the meeting's own link, so a patient the addon had registered was
     * mailed a link that asked them to register again, and joined by it unknown to the visit.
     * A mail to that patient alone now carries their own link, and one to the doctor alone
     * the click-to-start link (KiviCare's reminder to the doctor carried the join link, by
     * which they joined their own meeting as a guest); a mail to several is unchanged.
     */
    public function testKiviCaresMailToThePatientOrTheDoctorAloneCarriesTheirOwnLink(): void
    {
        $this->assertTrue(KCTSettings::save(['policy' => ['register_patient' => true]]));
        try {
            $this->meeting(990109);
        } finally {
            KCTSettings::save(['policy' => []]);
        }
        $row = KCTMappingRepository::find(990109);
        $this->assertNotEmpty($row['patient_join_url']);
        $this->captureMails();
        // As KiviCare's template processor leaves it: the link in HTML, as stored.
        $html = '<p>Zoom video conference</p><p>Zoom Link: ' . $row['join_url'] . '</p><a href="' . esc_url($row['join_url']) . '">Join</a>';
        $patient = get_userdata($this->patient);
        wp_mail('"' . $patient->display_name . '" <' . strtoupper($patient->user_email) . '>', 'Video Conference Link', $html);
        wp_mail(get_userdata($this->doctor)->user_email, 'Video Conference Link', $html);
        wp_mail([$patient->user_email, 'front.desk@example.org'], 'Video Conference Link', $html);
        [$toPatient, $toDoctor, $toBoth] = $this->mails;
        $this->assertStringNotContainsString($row['join_url'], $toPatient['message']);
        $this->assertSame(2, substr_count($toPatient['message'], $row['patient_join_url']), 'both forms of the link are theirs');
        $this->assertStringNotContainsString($row['join_url'], $toDoctor['message']);
        $host = \KCTApp\telemed\KCTAppointmentLinks::hostLink(990109);
        $this->assertSame(2, substr_count($toDoctor['message'], esc_url($host)), 'both forms: the click-to-start link, escaped in HTML');
        // A plain-text mail (the addon's own, say) gets it as it is.
        wp_mail(get_userdata($this->doctor)->user_email, 'Reminder', 'Start: ' . $row['join_url']);
        $this->assertSame('Start: ' . $host, $this->mails[3]['message']);
        // Nor the patient's own link, by which the doctor would join as the patient.
        wp_mail(get_userdata($this->doctor)->user_email, 'Reminder', 'Start: ' . $row['patient_join_url']);
        $this->assertSame('Start: ' . $host, $this->mails[4]['message']);
        // Only appointments to come are looked at (a meeting stays live after its day, and a
        // busy doctor's whole history was read for every mail to them).
        global $wpdb;
        $wpdb->update(KCTMappingRepository::table(), ['start_time' => '2020-01-01 10:00:00'], ['appointment_id' => 990109]);
        wp_mail(get_userdata($this->doctor)->user_email, 'Reminder', 'Start: ' . $row['join_url']);
        $this->assertSame('Start: ' . $row['join_url'], $this->mails[5]['message']);
        $this->assertSame($html, $toBoth['message'], 'a mail to others as well keeps it');
    }

    /** With the clinic's policy, the patient is registered: their own link, and events name them for certain. */
    public function testARegisteredPatientGetsTheirOwnLinkAndIsKnownByIt(): void
    {
        $this->assertTrue(KCTSettings::save(['policy' => ['register_patient' => true]]));
        try {
            $zoomId = $this->meeting(990107);
        } finally {
            KCTSettings::save(['policy' => []]);
        }
        $row = KCTMappingRepository::find(990107);
        $this->assertNotEmpty($row['registrant_id']);
        $this->assertStringContainsString('/w/' . $zoomId . '?tk=', (string) $row['patient_join_url']);
        $this->assertSame(strtolower(get_userdata($this->patient)->user_email), $row['registered_email']);
        $made = array_values(array_filter(self::zoomMeetings(), static function ($m) use ($zoomId) {
            return (string) $m['id'] === $zoomId;
        }))[0];
        $this->assertSame(0, $made['settings']['approval_type'], 'made with registration on');
        $this->assertSame($row['registrant_id'], $made['registrants'][0]['registrant_id']);
        // The patient's links are their own; the doctor still starts the meeting as host.
        $this->assertSame($row['patient_join_url'], KCTMappingRepository::patientJoinUrl($row));
        wp_set_current_user($this->patient);
        $r = rest_do_request(new \WP_REST_Request('GET', '/kct-zoom/v1/settings/zoom-telemed/meeting/990107'));
        $this->assertSame($row['patient_join_url'], $r->get_data()['data']['join_url']);
        wp_set_current_user(0);
        // A participant who joins by that link carries the registrant id: the patient, for certain.
        $this->participant('meeting.participant_joined', $zoomId, ['user_id' => '99', 'registrant_id' => $row['registrant_id']], '2030-01-01T10:00:00Z');
        $this->assertSame('registrant', KCTVisits::find(990107)['patient_known_by']);
        $this->assertSame(4, self::status(990107));
        // Someone else, not registered, is not taken for the patient.
        $this->participant('meeting.participant_left', $zoomId, ['user_id' => '77', 'email' => 'someone.else@example.org'], '2030-01-01T10:05:00Z');
        $this->assertTrue(KCTVisits::find(990107)['patient_in']);
    }

    /**
     * Found by review: a doctor whose Zoom user was not learned when they connected (Zoom
     * could not say then) was not known as the host, so their joining passed for the patient
     * and checked the patient in. The visit asks Zoom who the doctor is first.
     */
    public function testADoctorWhoseZoomUserWasNotLearnedIsNotTakenForThePatient(): void
    {
        $zoomId = $this->meeting(990110);
        $key = KCTSite::userKey(KCTTokenStore::ZOOM_USER);
        delete_user_meta($this->doctor, $key);
        $this->participant('meeting.participant_joined', $zoomId, ['id' => $this->doctorZoomId], '2030-01-01T10:00:00Z');
        $this->assertSame(1, self::status(990110), 'the doctor joining checks no one in');
        $this->assertFalse((bool) (KCTVisits::find(990110)['patient_in'] ?? false));
        wp_cache_delete($this->doctor, 'user_meta');
        $this->assertSame($this->doctorZoomId, get_user_meta($this->doctor, $key, true), 'learned on the way');
    }

    public function testTheDoctorAloneIsANoShowAdministratorsCanFilter(): void
    {
        $zoomId = $this->meeting(990102);
        $this->participant('meeting.participant_joined', $zoomId, ['id' => $this->doctorZoomId], '2030-01-01T10:00:00Z');
        $this->event('meeting.ended', ['id' => (int) $zoomId, 'end_time' => '2030-01-01T10:20:00Z']);
        $this->assertSame('no_show', KCTVisits::find(990102)['outcome']);
        $this->assertSame(1, self::status(990102), 'KiviCare\'s status is left as it was');
        $noShows = array_column(KCTVisits::recent(['outcome' => 'no_show']), 'appointment_id');
        $this->assertContains(990102, $noShows);
        // Administrators filter them on the status screen and over REST.
        wp_set_current_user($this->makeUser('administrator'));
        $r = rest_do_request(new \WP_REST_Request('GET', '/kct-zoom/v1/settings/zoom-telemed/status'));
        $this->assertContains(990102, array_column($r->get_data()['data']['visits'], 'appointment_id'));
        $req = new \WP_REST_Request('GET', '/kct-zoom/v1/settings/zoom-telemed/status');
        $req->set_param('outcome', 'checked_out');
        $this->assertNotContains(990102, array_column(rest_do_request($req)->get_data()['data']['visits'], 'appointment_id'));
        $_GET['kct_outcome'] = 'no_show';
        try {
            ob_start();
            \KCTApp\admin\KCTStatusScreen::render();
            $page = (string) ob_get_clean();
        } finally {
            unset($_GET['kct_outcome']);
        }
        $this->assertStringContainsString('#990102', $page);
        $this->assertStringContainsString('No-show', $page);
        // The doctor sees it among their recent visits.
        wp_set_current_user($this->doctor);
        ob_start();
        \KCTApp\admin\KCTSettingsPages::renderDoctor();
        $mine = (string) ob_get_clean();
        $this->assertStringContainsString('#990102', $mine);
        wp_set_current_user(0);
    }

    /**
     * Zoom retries a delivery minutes later, so the patient's join can arrive after the meeting
     * ended as a no-show: they were there, so KiviCare checks them in and out, in that order.
     */
    public function testAPatientsJoinArrivingAfterTheEndUndoesTheNoShow(): void
    {
        $zoomId = $this->meeting(990108);
        $this->participant('meeting.participant_joined', $zoomId, ['id' => $this->doctorZoomId], '2030-01-01T10:00:00Z');
        $this->event('meeting.ended', ['id' => (int) $zoomId, 'end_time' => '2030-01-01T10:20:00Z']);
        $this->assertSame('no_show', KCTVisits::find(990108)['outcome']);
        $this->participant('meeting.participant_joined', $zoomId, $this->patientWho(), '2030-01-01T10:02:00Z');
        $v = KCTVisits::find(990108);
        $this->assertSame('checked_out', $v['outcome']);
        $this->assertSame(18 * 60, $v['together_seconds'], 'from their join to the end');
        $this->assertSame(3, self::status(990108), 'checked in, then out, through KiviCare');
    }

    public function testOtherMeetingsReplaysAndBadSignaturesChangeNothing(): void
    {
        global $wpdb;
        $zoomId = $this->meeting(990103);
        $count = static function () use ($wpdb) {
            return (int) $wpdb->get_var('SELECT COUNT(*) FROM ' . KCTVisits::table());
        };
        $before = $count();
        $this->participant('meeting.participant_joined', '85999999999', $this->patientWho(), '2030-01-01T10:00:00Z');
        $this->assertSame($before, $count(), 'another account\'s meeting: nothing');
        $sent = $this->participant('meeting.participant_joined', $zoomId, $this->patientWho(), '2030-01-01T10:00:00Z');
        $this->assertSame(4, self::status(990103));
        $visit = KCTVisits::find(990103);
        // The same delivery again: refused as a replay; the status set back by hand stays.
        $this->setAppointment(990103, ['status' => 1]);
        self::postToWebhook($sent['headers'], $sent['sent']);
        $this->assertSame($visit, KCTVisits::find(990103));
        $this->assertSame(1, self::status(990103));
        $bad = self::deliver('not-the-secret-0000000', 'meeting.ended', ['object' => ['id' => (int) $zoomId]]);
        $this->assertSame(401, $bad['status']);
        $this->assertSame($visit, KCTVisits::find(990103));
    }

    public function testWithThePolicyOffTheVisitIsRecordedButNoStatusChanges(): void
    {
        $this->assertTrue(KCTSettings::save(['check_in_from_zoom' => false]));
        $zoomId = $this->meeting(990104);
        $this->participant('meeting.participant_joined', $zoomId, $this->patientWho(), '2030-01-01T10:00:00Z');
        $this->assertSame(1, self::status(990104));
        $this->assertTrue(KCTVisits::find(990104)['patient_in']);
    }

    public function testADoctorWhoAskedIsMailedWhenTheirPatientWaits(): void
    {
        $zoomId = $this->meeting(990105);
        // The doctor asks for it on their page (doctor-config).
        wp_set_current_user($this->doctor);
        $req = new \WP_REST_Request('PUT', '/kct-zoom/v1/settings/zoom-telemed/doctor-config');
        $req->set_param('waiting_mail', true);
        $answer = rest_do_request($req);
        wp_set_current_user(0);
        $this->assertSame(200, $answer->get_status(), wp_json_encode($answer->get_data()));
        $this->assertTrue($answer->get_data()['data']['waiting_mail']);
        $mails = [];
        $keep = static function ($short, $atts) use (&$mails) {
            $mails[] = $atts;
            return true;
        };
        add_filter('pre_wp_mail', $keep, 5, 2);
        $zone = get_option('timezone_string');
        update_option('timezone_string', 'Asia/Kolkata');
        $at = time();
        try {
            $action = ['action' => 'participant', 'meeting_id' => $zoomId, 'change' => 'waiting',
                'participant' => ['email' => get_userdata($this->patient)->user_email], 'at' => $at];
            KCTVisits::apply($action);
            KCTVisits::apply($action + ['at' => time() + 30]); // still waiting: no second mail
        } finally {
            remove_filter('pre_wp_mail', $keep, 5);
            update_option('timezone_string', $zone);
        }
        $this->assertCount(1, $mails);
        $local = (new \DateTimeImmutable('@' . $at))->setTimezone(new \DateTimeZone('Asia/Kolkata'))->format('Y-m-d H:i');
        $this->assertStringContainsString("since $local IST", $mails[0]['message'], 'in the clinic\'s time, not UTC');
        $this->assertSame(get_userdata($this->doctor)->user_email, $mails[0]['to']);
        $this->assertStringContainsString('appointment_id=990105', $mails[0]['message']);
        $this->assertStringNotContainsString('zak=', $mails[0]['message']);
    }
}
