<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\connection\KCTDepartedDoctors;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\telemed\KCTZoom;

/**
 * KiviCare's doctor delete (CONTRACT §3 E): the provider is asked to cancel each of the
 * doctor's appointments, the appointments go, then the WordPress user, and their stored
 * Zoom token with it. Committed as KiviCare commits it (no test transaction), since the
 * token is read through the second database connection.
 */
final class DoctorDeletionTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    private const APPOINTMENTS = [556, 557];

    protected function tearDown(): void
    {
        global $wpdb;
        foreach (self::APPOINTMENTS as $id) {
            $this->deleteAppointment($id);
            $wpdb->delete(KCTMappingRepository::table(), ['appointment_id' => $id]);
            \KCTApp\meetings\KCTQueue::clear($id);
        }
        parent::tearDown();
    }

    private function provider(): KCTZoom
    {
        $providers = apply_filters('kc_telemed_providers', []);
        $p = new $providers['zoom']['class']($providers['zoom']['settings_key']);
        $p->init_hook();
        return $p;
    }

    /** Books the doctor's two telemedicine appointments as KiviCare does (§3 A). */
    private function bookTwo(KCTZoom $p, int $doctor, int $patient): void
    {
        foreach (self::APPOINTMENTS as $i => $id) {
            $start = sprintf('2030-01-0%d 10:00:00', 2 + $i);
            $this->bookAppointment($id, $doctor, $patient, $start, 30, 'Asia/Kolkata');
            $r = $p->create_meeting(['topic' => 'General consultation', 'type' => 'scheduled', 'start_time' => $start, 'duration' => 30,
                'timezone' => 'Asia/Kolkata', 'password' => '', 'waiting_room' => false, 'auto_recording' => false,
                'host_video' => true, 'participant_video' => true, 'mute_upon_entry' => true,
                'patient_id' => $patient, 'doctor_id' => $doctor, 'appointment_id' => $id]);
            $this->assertIsArray($r, is_wp_error($r) ? $r->get_error_message() : '');
        }
        $this->assertCount(2, self::zoomMeetings());
    }

    /** KiviCare deletes the doctor (§3 E), Zoom failing `$failures` deletes first. */
    private function deleteDoctorAsKiviCare(KCTZoom $p, int $doctor, int $failures = 1): void
    {
        require_once ABSPATH . 'wp-admin/includes/user.php';
        if ($failures > 0) {
            self::zoom('fault', ['kind' => 'server_error', 'count' => $failures, 'path_prefix' => '/v2/meetings']);
        }
        foreach (self::APPOINTMENTS as $id) {
            $p->cancel_meeting_by_appointment($id);
        }
        $this->assertCount($failures, self::zoomMeetings(), 'the deletes Zoom failed');
        foreach (self::APPOINTMENTS as $id) {
            $this->deleteAppointment($id);
        }
        wp_delete_user($doctor);
        wp_cache_flush();
    }

    /** @return array{0: KCTZoom, 1: int} the provider, a doctor connected through OAuth with two meetings */
    private function connectedDoctorWithTwoMeetings(): array
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $p = $this->provider();
        $this->bookTwo($p, $doctor, $this->makeUser('kiviCare_patient'));
        return [$p, $doctor];
    }

    private static function revokes(): int
    {
        return (int) (self::zoomStats()['calls']['oauth.revoke'] ?? 0);
    }

    private function assertNothingLeft(): void
    {
        $this->assertCount(0, self::zoomMeetings(), 'no meeting left at Zoom for the deleted doctor');
        foreach (self::APPOINTMENTS as $id) {
            $row = KCTMappingRepository::find($id);
            $this->assertSame('deleted', $row['status']);
            $this->assertNull($row['intent'], 'nothing owed: ' . (string) $row['last_error']);
        }
    }

    public function testADeletedDoctorsMeetingsAreDeletedAtZoomEvenWhenZoomFailedAtFirst(): void
    {
        [$p, $doctor] = $this->connectedDoctorWithTwoMeetings();
        $this->deleteDoctorAsKiviCare($p, $doctor);
        $this->assertFalse(get_userdata($doctor), 'the user is gone');
        $this->assertSame('', get_user_meta($doctor, 'first_name', true), 'and their other data');
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state'], 'the Zoom connection is kept while a delete is owed');
        $this->assertSame([$doctor], get_option(KCTDepartedDoctors::OPTION));
        $this->runQueue();
        $this->assertNothingLeft();
        // Nightly: nothing is owed any more, so the grant is revoked at Zoom and the data goes.
        $revokes = self::revokes();
        $this->assertSame([$doctor], KCTDepartedDoctors::check());
        $this->assertSame($revokes + 1, self::revokes());
        $this->assertSame('none', KCTTokenStore::get($doctor, true)['state']);
        $this->assertSame('', get_user_meta($doctor, KCTTokenStore::STATE, true));
        $this->assertSame([], get_option(KCTDepartedDoctors::OPTION));
        // The next nightly reconcile leaves the gone doctor's account alone: nothing of theirs is left.
        \KCTApp\meetings\KCTReconcile::run();
        global $wpdb;
        $this->assertSame('0', $wpdb->get_var($wpdb->prepare("SELECT COUNT(*) FROM {$wpdb->usermeta} WHERE user_id = %d", $doctor)));
    }

    /** A doctor deleted with nothing owed: the grant they gave the clinic's app is revoked at once. */
    public function testADeletedDoctorsGrantIsRevokedAtZoomWhenNothingIsOwed(): void
    {
        [$p, $doctor] = $this->connectedDoctorWithTwoMeetings();
        $revokes = self::revokes();
        $this->deleteDoctorAsKiviCare($p, $doctor, 0);
        $this->assertSame($revokes + 1, self::revokes());
        $this->assertSame('none', KCTTokenStore::get($doctor, true)['state']);
        $this->assertSame([], (array) get_option(KCTDepartedDoctors::OPTION, []));
        $this->assertNothingLeft();
    }

    /**
     * A doctor deleted in WordPress alone: KiviCare keeps their appointments, whose meetings
     * are live at Zoom. The connection is kept, so cancelling one still reaches Zoom.
     */
    public function testADoctorDeletedInWordPressAloneKeepsTheConnectionTheirAppointmentsToComeNeed(): void
    {
        require_once ABSPATH . 'wp-admin/includes/user.php';
        [$p, $doctor] = $this->connectedDoctorWithTwoMeetings();
        $revokes = self::revokes();
        wp_delete_user($doctor);
        wp_cache_flush();
        $this->assertSame($revokes, self::revokes(), 'not revoked');
        $this->assertSame([$doctor], get_option(KCTDepartedDoctors::OPTION));
        $this->assertSame([], KCTDepartedDoctors::check(), 'still needed the next night');
        $listed = array_column(\KCTApp\admin\KCTStatusScreen::data(time())['upcoming'], 'doctor', 'appointment_id');
        $this->assertSame('#' . $doctor . ' (user deleted)', $listed[556], 'the status screen says whose they were');
        foreach (self::APPOINTMENTS as $id) {
            $this->setAppointment($id, ['status' => 0]);
            do_action('kc_appointment_cancelled', $id);
        }
        $this->assertCount(0, self::zoomMeetings(), 'the cancellations reached Zoom');
        $this->assertSame([$doctor], KCTDepartedDoctors::check());
        $this->assertSame($revokes + 1, self::revokes());
        $this->assertSame('none', KCTTokenStore::get($doctor, true)['state']);
    }

    /**
     * Zoom asks that a user's data be deleted when they remove the app (ZOOM-FACTS): a deleted
     * doctor's kept connection is found by their Zoom user and deleted too.
     */
    public function testADeletedDoctorWhoRemovesTheAppInZoomHasTheKeptConnectionDeleted(): void
    {
        [$p, $doctor] = $this->connectedDoctorWithTwoMeetings();
        $this->assertTrue(\KCTApp\settings\KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $zoomUser = (string) get_user_meta($doctor, \KCTApp\storage\KCTSite::userKey(KCTTokenStore::ZOOM_USER), true);
        $this->assertNotSame('', $zoomUser);
        $this->deleteDoctorAsKiviCare($p, $doctor);
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state'], 'kept: a delete is owed');
        $d = self::deliver('kctWebhookSecret0123456', 'app_deauthorized', ['account_id' => 'fzAccountOAuth', 'user_id' => $zoomUser,
            'client_id' => self::$clientId, 'deauthorization_time' => gmdate('c')]);
        $this->assertSame(200, $d['status'], $d['body']);
        wp_cache_delete($doctor, 'user_meta');
        $this->assertSame('none', KCTTokenStore::get($doctor, true)['state'], 'the kept tokens are deleted');
    }

    public function testUnderTheClinicsAppADeletedDoctorsMeetingsAreDeletedAtZoomToo(): void
    {
        $this->resetZoom();
        $this->configureS2s(['dr.gone@clinic.example']);
        $doctor = $this->makeUser('kiviCare_doctor', ['user_email' => 'dr.gone@clinic.example']);
        $p = $this->provider();
        $this->bookTwo($p, $doctor, $this->makeUser('kiviCare_patient'));
        $this->deleteDoctorAsKiviCare($p, $doctor);
        $this->runQueue();
        $this->assertNothingLeft();
    }
}
