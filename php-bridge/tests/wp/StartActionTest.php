<?php
use KCTApp\storage\KCTSideDb;
use KCTApp\telemed\KCTAppointmentLinks;

/**
 * The doctor's start action cannot be triggered from another site: a GET only shows a Start
 * button; the POST needs this user's nonce for this appointment.
 */
final class StartActionTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    public function testACrossSiteGetShowsAButtonAndOnlyTheNoncedPostStarts(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $patient = $this->makeUser('kiviCare_patient', ['display_name' => 'Pat Startpage']);
        $row = $this->ensureMeeting(['appointment_id' => 930, 'doctor_id' => $doctor, 'patient_id' => $patient,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']);
        $this->assertIsArray($row);
        $this->actAs($doctor);

        $get = KCTAppointmentLinks::startResponse('GET', ['appointment_id' => 930], $doctor);
        $this->assertSame(200, $get['status']);
        $this->assertArrayNotHasKey('redirect', $get, 'a GET never goes to Zoom');
        $this->assertStringNotContainsString('zak=', $get['html']);
        $this->assertMatchesRegularExpression('/name="_wpnonce" value="[0-9a-f]+"/', $get['html']);
        // Which consultation the doctor is about to start: the patient and the time.
        $this->assertStringContainsString('Video consultation with Pat Startpage on January 1, 2030 10:00 am UTC', $get['html']);
        preg_match('/name="_wpnonce" value="([0-9a-f]+)"/', $get['html'], $m);

        $this->assertSame(403, KCTAppointmentLinks::startResponse('POST', ['appointment_id' => 930], $doctor)['status'], 'no nonce');
        $this->assertSame(403, KCTAppointmentLinks::startResponse('POST', ['appointment_id' => 930, '_wpnonce' => 'deadbeef00'], $doctor)['status']);
        $other = wp_create_nonce(KCTAppointmentLinks::START_ACTION . '_931');
        $this->assertSame(403, KCTAppointmentLinks::startResponse('POST', ['appointment_id' => 930, '_wpnonce' => $other], $doctor)['status'], 'another appointment\'s nonce');

        $post = KCTAppointmentLinks::startResponse('POST', ['appointment_id' => 930, '_wpnonce' => $m[1]], $doctor);
        $this->assertSame(302, $post['status']);
        $this->assertStringContainsString('zak=', $post['redirect']);

        $colleague = $this->makeUser('kiviCare_doctor');
        $this->actAs($colleague);
        $this->assertSame(403, KCTAppointmentLinks::startResponse('GET', ['appointment_id' => 930], $colleague)['status']);
        $this->assertSame(403, KCTAppointmentLinks::startResponse('POST', ['appointment_id' => 930, '_wpnonce' => $m[1]], $colleague)['status']);
    }

    /**
     * KiviCare's lists show the doctor a video button only once the patient is checked in
     * (CONTRACT §3): the doctor's Zoom page lists their consultations to come, each live one
     * with a Start link to the start page, and never a Zoom link.
     */
    public function testTheDoctorsPageListsTheirConsultationsToComeWithStartLinks(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $patient = $this->makeUser('kiviCare_patient', ['display_name' => 'Pat Upcoming']);
        foreach ([934 => '2030-01-01 10:00:00', 935 => '2030-01-02 10:00:00'] as $id => $start) {
            $this->assertIsArray($this->ensureMeeting(['appointment_id' => $id, 'doctor_id' => $doctor, 'patient_id' => $patient,
                'start_time' => $start, 'duration' => 30, 'timezone' => 'UTC']));
        }
        $this->setAppointment(935, ['status' => 0]);
        do_action('kc_appointment_cancelled', 935);
        $colleague = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($colleague);
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 936, 'doctor_id' => $colleague, 'patient_id' => $patient,
            'start_time' => '2030-01-01 11:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $this->actAs($doctor);
        ob_start();
        \KCTApp\admin\KCTSettingsPages::renderDoctor();
        $page = (string) ob_get_clean();
        $list = substr($page, (int) strpos($page, 'kct-doctor-upcoming'));
        $list = substr($list, 0, (int) strpos($list, '</table>'));
        $this->assertStringContainsString('#934', $list);
        $this->assertStringContainsString('Pat Upcoming', $list);
        $this->assertStringContainsString('January 1, 2030 10:00 am UTC', $list);
        $this->assertStringContainsString(esc_url(KCTAppointmentLinks::hostLink(934)), $list);
        $this->assertStringContainsString('aria-label="Start the video consultation with Pat Upcoming on January 1, 2030 10:00 am UTC"', $list);
        $this->assertStringContainsString('#935', $list, 'a cancelled one is listed, as cancelled');
        $this->assertStringContainsString('cancelled', $list);
        $this->assertStringNotContainsString(esc_url(KCTAppointmentLinks::hostLink(935)), $list, 'with nothing to start');
        $this->assertStringNotContainsString('#936', $list, 'a colleague\'s is not theirs');
        $this->assertStringNotContainsString('zak=', $page);
        $this->assertStringNotContainsString('/j/', $page, 'no join link either');
    }

    /**
     * `[kct_zoom_consultations]` on a page of the site: each visitor's own consultations to
     * come, a patient's with their join link, a doctor's with the click-to-start link.
     */
    public function testTheConsultationsShortcodeShowsEachVisitorOnlyTheirOwnLinks(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor', ['display_name' => 'Dr. Short Code']);
        $this->connectDoctor($doctor);
        $patient = $this->makeUser('kiviCare_patient', ['display_name' => 'Pat Shortcode']);
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 937, 'doctor_id' => $doctor, 'patient_id' => $patient,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $join = (string) \KCTApp\meetings\KCTMappingRepository::find(937)['join_url'];
        $host = esc_url(KCTAppointmentLinks::hostLink(937));
        // PHPUnit loads WordPress from inside a function, which leaves WordPress's shortcode
        // registry empty here (its own shortcodes too): the plugin's links register again.
        KCTAppointmentLinks::register();
        $this->assertTrue(shortcode_exists(\KCTApp\telemed\KCTConsultationsShortcode::TAG));

        $anonymous = do_shortcode('[kct_zoom_consultations]');
        $this->assertStringContainsString('Log in</a> to see your video consultations.', $anonymous);
        $this->assertStringNotContainsString($join, $anonymous);

        $this->actAs($patient);
        $mine = do_shortcode('[kct_zoom_consultations]');
        $this->assertStringContainsString('Dr. Short Code', $mine);
        $this->assertStringContainsString('January 1, 2030 10:00 am UTC', $mine);
        $this->assertStringContainsString(esc_url($join), $mine);
        $this->assertStringContainsString('aria-label="Join the video consultation with Dr. Short Code on January 1, 2030 10:00 am UTC"', $mine);
        $this->assertStringNotContainsString($host, $mine);

        $this->actAs($this->makeUser('kiviCare_patient'));
        $other = do_shortcode('[kct_zoom_consultations]');
        $this->assertStringContainsString('You have no video consultations to come.', $other);
        $this->assertStringNotContainsString($join, $other);

        $this->actAs($doctor);
        $theirs = do_shortcode('[kct_zoom_consultations]');
        $this->assertStringContainsString('Pat Shortcode', $theirs);
        $this->assertStringContainsString($host, $theirs);
        $this->assertStringNotContainsString($join, $theirs, 'the doctor starts; they are not sent to join');
        $this->assertStringNotContainsString('zak=', $theirs);
    }

    /** Found by review: a cancelled appointment's page offered a Start button that could only fail. */
    public function testACancelledAppointmentsPageSaysSoInsteadOfOfferingStart(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 932, 'doctor_id' => $doctor, 'patient_id' => $this->makeUser('kiviCare_patient'),
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        // Cancelled in KiviCare, as its status route does it.
        $this->setAppointment(932, ['status' => 0]);
        do_action('kc_appointment_status_update', 932, 0, null);
        $this->assertSame('cancelled', \KCTApp\meetings\KCTMappingRepository::find(932)['status']);
        $get = KCTAppointmentLinks::startResponse('GET', ['appointment_id' => 932], $doctor);
        $this->assertSame(404, $get['status']);
        $this->assertStringNotContainsString('<button', $get['html']);
        $this->assertStringContainsString('cancelled', $get['html']);
    }

    /** Named locks are hashed, not truncated: long names never collide. */
    public function testLockNamesAreHashedNotTruncated(): void
    {
        $a = KCTSideDb::lockKey(str_repeat('x', 80) . 'doctor-1');
        $b = KCTSideDb::lockKey(str_repeat('x', 80) . 'doctor-2');
        $this->assertNotSame($a, $b);
        $this->assertLessThanOrEqual(64, strlen($a));
        $this->assertTrue(KCTSideDb::lock('held-by-this-test', 0));
        KCTSideDb::unlock('held-by-this-test');
    }
}
