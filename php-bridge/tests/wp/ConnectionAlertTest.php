<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\storage\KCTSideDb;

/** A broken connection is told once, to the doctor and the administrators, with the way back. */
final class ConnectionAlertTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    /** A doctor who disconnects is told what becomes of the meetings made through the connection. */
    public function testDisconnectingSaysTheUpcomingMeetingsStayInZoom(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $this->assertIsArray($this->ensureMeeting(['appointment_id' => 970, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $this->actAs($doctor);
        $r = $this->rest('GET', '/kct-zoom/v1/settings/zoom-telemed/disconnect');
        $this->assertSame(200, $r->get_status());
        $this->assertStringContainsString('Your 1 upcoming telemedicine meeting stays in your Zoom account', $r->get_data()['message']);
        $this->assertSame(1, $r->get_data()['data']['upcoming_kept']);
        $this->assertCount(1, self::zoomMeetings(), 'the meeting is not deleted');
        $r = $this->rest('GET', '/kct-zoom/v1/settings/zoom-telemed/disconnect');
        $this->assertSame(1, $r->get_data()['data']['upcoming_kept'], 'still there, still said');
    }

    public function testABrokenConnectionIsToldOnceWithTheReconnectLink(): void
    {
        $this->captureMails();
        $this->resetZoom();
        $this->configureOAuth();
        $admin = $this->makeUser('administrator');
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $this->assertSame([], $this->mails, 'connecting sends nothing');

        KCTTokenStore::change($doctor, 'deauthorized'); // as the app_deauthorized webhook does
        $this->assertCount(1, $this->mailsTo($doctor));
        $this->assertCount(1, $this->mailsTo($admin));
        $this->assertStringContainsString('admin.php?page=kct-zoom-doctor', $this->mailsTo($doctor)[0]['message']);
        $this->assertStringContainsString(get_userdata($doctor)->display_name, $this->mailsTo($admin)[0]['message']);
        KCTTokenStore::change($doctor, 'deauthorized');
        $this->assertCount(1, $this->mailsTo($doctor), 'once per break');

        // Connected again, then the stored token stops decrypting (a key change): told again, once.
        $this->connectDoctor($doctor);
        KCTSideDb::setUserMeta($doctor, KCTTokenStore::META, 'kct1:' . base64_encode(random_bytes(80)));
        KCTTokenStore::get($doctor, true);
        KCTTokenStore::get($doctor, true);
        $this->assertCount(2, $this->mailsTo($doctor));
        $this->assertSame('reconnect_required', KCTTokenStore::connection($doctor));
        foreach ($this->mails as $m) {
            $this->assertStringNotContainsString('kct1:', $m['message'], 'no secret in a mail');
        }
    }

    /**
     * Found moving the connection's states into the core: once Zoom's refusal had the tokens
     * forgotten, the next call for the doctor found none and recorded "not connected", so the
     * doctor's page, the status screen and Site Health stopped saying they must connect again.
     */
    public function testABrokenConnectionStaysBrokenWhenTheNextCallFindsNoTokens(): void
    {
        $this->captureMails();
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        KCTTokenStore::change($doctor, 'reauthorize'); // as a refresh Zoom refused does
        $this->assertNull(KCTTokenStore::get($doctor, true)['token'], 'the refused tokens are forgotten');
        $this->assertSame('reconnect_required', KCTTokenStore::connection($doctor));
        $this->assertCount(1, $this->mailsTo($doctor));

        $r = \KCTApp\connection\KCTConnect::testConnection($doctor);
        $this->assertSame('kct_reconnect_required', $r->get_error_code());
        $this->assertSame('reconnect_required', KCTTokenStore::connection($doctor), 'still broken, not "not connected"');
        $this->assertContains($doctor, array_map('intval', get_users(['meta_key' => \KCTApp\storage\KCTSite::userKey(KCTTokenStore::STATE), 'meta_value' => KCTTokenStore::BROKEN, 'meta_compare' => 'IN', 'fields' => 'ID'])));
        $this->assertCount(1, $this->mailsTo($doctor), 'told once');

        KCTTokenStore::change($doctor, 'disconnect');
        $this->assertSame('disconnected', KCTTokenStore::connection($doctor));
        $this->assertSame('disconnected', (KCTTokenStore::change($doctor, 'reauthorize')), 'a chosen disconnect stands too');
    }
}
