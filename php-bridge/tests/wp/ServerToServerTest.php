<?php
use KCTApp\models\KCTMappingRepository;
use KCTApp\telemed\KCTAppointmentFacts;

/** Clinic-wide Server-to-Server: account token reused, the doctor's Zoom user as host. */
final class ServerToServerTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private function facts(int $id, int $doctor): array
    {
        return KCTAppointmentFacts::fromMeetingData(['appointment_id' => $id, 'doctor_id' => $doctor,
            'start_time' => '2030-05-05 09:00:00', 'duration' => 25, 'timezone' => 'Europe/Berlin']);
    }

    public function testMeetingsAreHostedByTheDoctorAndTheTokenIsReused(): void
    {
        $this->resetZoom();
        $doctor = $this->makeUser('kiviCare_doctor', ['user_email' => 'dr.rao@clinic.example']);
        $this->configureS2s(['dr.rao@clinic.example']);
        $a = $this->ensureMeeting($this->facts(601, $doctor));
        $this->assertIsArray($a, is_wp_error($a) ? $a->get_error_message() : '');
        $b = $this->ensureMeeting($this->facts(602, $doctor));
        $this->assertIsArray($b);
        $meetings = self::zoomMeetings();
        $this->assertCount(2, $meetings);
        $this->assertSame('dr.rao@clinic.example', $meetings[0]['host_email']);
        $this->assertSame('2030-05-05T07:00:00Z', $meetings[0]['start_time']);
        $this->assertSame(1, self::zoomStats()['calls']['oauth.token'], 'one account token for both');
        $this->assertSame(0, self::zoomStats()['invalid_bodies']);
    }

    public function testAnUnknownHostFailsClearlyAndIsRecorded(): void
    {
        $this->resetZoom();
        $this->configureS2s(['someone@clinic.example']);
        $doctor = $this->makeUser('kiviCare_doctor', ['user_email' => 'nobody@clinic.example']);
        $r = $this->ensureMeeting($this->facts(603, $doctor));
        $this->assertInstanceOf(\WP_Error::class, $r);
        $this->assertSame('host_not_found', $r->get_error_data()['reason']);
        $row = KCTMappingRepository::find(603);
        $this->assertSame('failed', $row['status']);
        $this->assertStringContainsString('host_not_found', $row['last_error']);
    }

    public function testADoctorsOwnAppNeedsANamedHost(): void
    {
        $this->actAs($this->makeUser('kiviCare_doctor'));
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed/doctor-config', ['auth_type' => 'server-to-server',
            'account_id' => 'kctAccount0001', 'client_id' => 'kctS2sClient001', 'client_secret' => 'kctS2sSecret0123456789', 'zoom_user' => 'me']);
        $this->assertSame(400, $r->get_status());
        $this->assertSame('zoom_user', $r->get_data()['data']['errors'][0]['field']);
    }
}
