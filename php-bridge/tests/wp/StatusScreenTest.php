<?php
use KCTApp\admin\KCTStatusScreen;
use KCTApp\meetings\KCTQueue;
use KCTApp\meetings\KCTMappingRepository;

/** The administrators' status screen: what it lists, "Retry now", and what it never shows. */
final class StatusScreenTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private int $doctor;

    protected function setUp(): void
    {
        parent::setUp();
        $this->resetZoom();
        $this->configureOAuth();
        $this->doctor = $this->makeUser('kiviCare_doctor', ['display_name' => 'Dr. Status Check']);
        $this->connectDoctor($this->doctor);
        $this->actAs($this->makeUser('administrator'));
    }

    private function meeting(int $id, string $start = '2030-01-01 10:00:00')
    {
        return $this->ensureMeeting(['appointment_id' => $id, 'doctor_id' => $this->doctor,
            'start_time' => $start, 'duration' => 30, 'timezone' => 'UTC']);
    }

    private function status(): array
    {
        $r = $this->rest('GET', '/kct-zoom/v1/settings/zoom-telemed/status');
        $this->assertSame(200, $r->get_status());
        return $r->get_data()['data'];
    }

    private static function upcoming(array $status, int $id): ?array
    {
        foreach ($status['upcoming'] as $row) {
            if ($row['appointment_id'] === $id) {
                return $row;
            }
        }
        return null;
    }

    public function testAFailedMeetingIsListedWithRetryNowAndTheRetryMakesIt(): void
    {
        self::zoom('fault', ['kind' => 'server_error', 'count' => 500, 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $this->meeting(580));
        for ($i = 0; $i < 12 && KCTQueue::next(580) !== null; $i++) {
            $this->runQueue();
        }
        $listed = self::upcoming($this->status(), 580);
        $this->assertSame('failed', $listed['status']);
        $this->assertTrue($listed['retry'], 'a failed meeting offers "Retry now"');
        $this->assertStringStartsWith('retries_exhausted', $listed['last_error']);
        ob_start();
        KCTStatusScreen::render();
        $page = (string) ob_get_clean();
        $this->assertStringContainsString('Retry now', $page);
        $this->assertStringContainsString('Dr. Status Check', $page);

        self::zoom('clear-faults');
        $r = $this->rest('POST', '/kct-zoom/v1/settings/zoom-telemed/status/retry/580');
        $this->assertSame(200, $r->get_status(), wp_json_encode($r->get_data()));
        $this->assertSame('active', $r->get_data()['data']['status']);
        $this->assertSame('active', KCTMappingRepository::find(580)['status']);
        $this->assertCount(1, self::zoomMeetings(), 'made once');
        $this->assertFalse(self::upcoming($this->status(), 580)['retry']);
    }

    /**
     * Found by review: under the clinic's Server-to-Server app only administrators name the
     * Zoom user hosting a doctor's meetings, and they could do it only through the REST route.
     */
    public function testAnAdministratorAssignsADoctorsZoomUserOnTheStatusScreen(): void
    {
        $this->configureS2s(['dr.host@clinic.example', 'room.two@clinic.example']);
        $doctor = $this->makeUser('kiviCare_doctor', ['user_email' => 'dr.host@clinic.example', 'display_name' => 'Dr. Host Form']);
        ob_start();
        KCTStatusScreen::render();
        $page = (string) ob_get_clean();
        $this->assertStringContainsString('name="action" value="' . KCTStatusScreen::HOST_ACTION . '"', $page);
        $this->assertMatchesRegularExpression('/id="kct-host-' . $doctor . '" name="zoom_user" class="regular-text" value="dr\.host@clinic\.example"/', $page, 'the doctor\'s email hosts by default');

        KCTStatusScreen::assignHost($doctor, 'stranger@elsewhere.example');
        ob_start();
        KCTStatusScreen::render();
        $page = (string) ob_get_clean();
        $this->assertStringContainsString('notice-error', $page);
        $this->assertStringContainsString('Zoom has no such user', $page, 'Zoom\'s answer, said where the form returns');
        $this->assertStringContainsString('value="dr.host@clinic.example"', $page, 'nothing changed');

        $this->assertStringEndsWith('#kct-doctors', KCTStatusScreen::assignHost($doctor, 'room.two@clinic.example'));
        ob_start();
        KCTStatusScreen::render();
        $page = (string) ob_get_clean();
        $this->assertStringContainsString('notice-success', $page);
        $this->assertMatchesRegularExpression('/id="kct-host-' . $doctor . '" name="zoom_user" class="regular-text" value="room\.two@clinic\.example"/', $page);
        ob_start();
        KCTStatusScreen::render();
        $this->assertStringNotContainsString('notice-success', (string) ob_get_clean(), 'said once');
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 587, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $this->assertSame('room.two@clinic.example', self::zoomMeetings()[0]['host_email']);

        // Under OAuth every doctor connects their own account: nothing to assign.
        $this->configureOAuth();
        ob_start();
        KCTStatusScreen::render();
        $this->assertStringNotContainsString('name="zoom_user"', (string) ob_get_clean());
    }

    /** Zoom's 4711 said only "does not contain scopes"; the administrator is told which to add. */
    public function testAMissingScopeIsNamedInTheMeetingsLastError(): void
    {
        self::zoom('fault', ['kind' => 'scope_missing', 'count' => 5, 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $this->meeting(588));
        $listed = self::upcoming($this->status(), 588);
        $this->assertSame('failed', $listed['status'], 'not retried: the same call would be refused again');
        $this->assertStringContainsString('meeting:write:meeting', $listed['last_error']);
        $this->assertStringContainsString('Zoom App Marketplace', $listed['last_error']);
        $this->assertTrue($listed['retry'], 'Retry now, once the scope is added');
        $this->assertSame([], self::zoomMeetings());
    }

    /** A patient who lost the mail: an administrator sends a live meeting's links again. */
    public function testAnAdministratorSendsALiveMeetingsLinksAgain(): void
    {
        $patient = $this->makeUser('kiviCare_patient');
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 589, 'doctor_id' => $this->doctor, 'patient_id' => $patient,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $this->assertTrue(self::upcoming($this->status(), 589)['resend']);
        ob_start();
        KCTStatusScreen::render();
        $this->assertStringContainsString('Send the links again', (string) ob_get_clean());

        $this->captureMails();
        $this->assertStringEndsWith('#kct-upcoming', KCTStatusScreen::resend(589));
        $this->assertCount(1, $this->mailsTo($patient));
        $this->assertStringContainsString(KCTMappingRepository::find(589)['join_url'], $this->mailsTo($patient)[0]['message']);
        $this->assertCount(1, $this->mailsTo($this->doctor));
        ob_start();
        KCTStatusScreen::render();
        $page = (string) ob_get_clean();
        $this->assertStringContainsString('notice-success', $page);
        $this->assertStringContainsString('the links were sent again (the patient, the doctor)', $page);

        // A cancelled appointment has no links to send.
        $this->setAppointment(589, ['status' => 0]);
        do_action('kc_appointment_status_update', 589, 0, null);
        $this->assertFalse(self::upcoming($this->status(), 589)['resend']);
        KCTStatusScreen::resend(589);
        $this->assertCount(1, $this->mailsTo($patient), 'nothing more sent');
        ob_start();
        KCTStatusScreen::render();
        $this->assertStringContainsString('has no live Zoom meeting', (string) ob_get_clean());
    }

    /** Found in a screenshot: a meeting under way left the list the moment it started. */
    public function testAMeetingUnderWayIsListedUntilItEnds(): void
    {
        $this->assertIsArray($this->meeting(585, gmdate('Y-m-d H:i:s', time() - 600)));
        $this->assertIsArray($this->meeting(586, gmdate('Y-m-d H:i:s', time() - 3600)));
        $this->assertNotNull(self::upcoming($this->status(), 585), 'started ten minutes ago, thirty minutes long');
        $this->assertNull(self::upcoming($this->status(), 586), 'over half an hour ago');
    }

    public function testRetryNowForACancelledAppointmentMakesNoMeeting(): void
    {
        $this->assertIsArray($this->meeting(581));
        $this->setAppointment(581, ['status' => 0]);
        $this->assertIsArray(\KCTApp\meetings\KCTMeetingLoop::run(581, 'cancel'));
        $r = $this->rest('POST', '/kct-zoom/v1/settings/zoom-telemed/status/retry/581');
        $this->assertSame(200, $r->get_status());
        $this->assertNotSame('active', KCTMappingRepository::find(581)['status'], 'the core decides: cancelled stays without a meeting');
        $this->assertCount(0, self::zoomMeetings());
        $this->assertSame(404, $this->rest('POST', '/kct-zoom/v1/settings/zoom-telemed/status/retry/999581')->get_status());
    }

    public function testEachDoctorsUseOfZoomsDailyCapIsCounted(): void
    {
        $this->assertIsArray($this->meeting(582));
        $this->assertIsArray($this->meeting(583));
        $this->bookAppointment(583, $this->doctor, 0, '2030-01-02 11:00:00', 30, 'UTC');
        $this->assertIsArray(\KCTApp\meetings\KCTMeetingLoop::run(583, 'reschedule'));
        $this->assertCount(1, array_filter(self::zoomMeetings(), static function ($m) {
            return strpos((string) $m['start_time'], '2030-01-02T11:00') === 0;
        }), 'the reschedule reached Zoom');
        $me = null;
        foreach ($this->status()['doctors'] as $d) {
            if ($d['doctor_id'] === $this->doctor) {
                $me = $d;
            }
        }
        $this->assertSame(3, $me['calls_today'], 'two creates and one update');
        $this->assertSame(100, $me['daily_cap']);
        $this->assertSame('connected', $me['connection']);
    }

    public function testTheScreenSpeaksInWordsAndTheSitesTimeNotInCodesAndUtc(): void
    {
        update_option('timezone_string', 'Asia/Kolkata');
        $this->assertIsArray($this->meeting(590, '2030-01-01 10:00:00'));
        self::zoom('fault', ['kind' => 'server_error', 'count' => 500, 'path_prefix' => '/v2/users']);
        $this->assertInstanceOf(\WP_Error::class, $this->meeting(591, '2030-01-02 10:00:00'));
        self::zoom('clear-faults');
        $owed = self::upcoming($this->status(), 591);
        $this->assertSame('ensure', $owed['owed'], 'the REST answer keeps the codes');
        $this->assertNotNull($owed['next_attempt_at']);
        $this->assertIsArray(\KCTApp\meetings\KCTReconcile::run());

        ob_start();
        KCTStatusScreen::render();
        $page = (string) ob_get_clean();

        $this->assertStringContainsString('2030-01-01 15:30 IST', $page, "10:00 UTC in the site's zone, the zone named");
        $this->assertStringNotContainsString('2030-01-01T10:00:00Z', $page);
        $this->assertStringContainsString('ready · ', $page, "an active meeting's state in words");
        $next = wp_date('Y-m-d H:i T', $owed['next_attempt_at']);
        $this->assertStringContainsString(esc_html('make the meeting (attempt ' . $owed['attempt'] . ', next ' . $next . ')'), $page);
        $this->assertMatchesRegularExpression('/Ran \d{4}-\d\d-\d\d \d\d:\d\d IST\. Meetings checked: 1; made again: 0;/', $page);
        $this->assertStringNotContainsString('"verified"', $page, 'the reconcile as a sentence, not as JSON');
        $this->assertStringContainsString('<td>connected</td>', $page);
    }

    public function testOnlyAdministratorsSeeTheStatus(): void
    {
        $this->actAs($this->doctor);
        $this->assertSame(403, $this->rest('GET', '/kct-zoom/v1/settings/zoom-telemed/status')->get_status());
        $this->assertSame(403, $this->rest('POST', '/kct-zoom/v1/settings/zoom-telemed/status/retry/580')->get_status());
    }
}
