<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\storage\KCTSideDb;

/** A broken connection is told once, to the doctor and the administrators, with the way back. */
final class ConnectionAlertTest extends KCTWPTestCase
{
    use KCTZoomFixtures;

    public function testABrokenConnectionIsToldOnceWithTheReconnectLink(): void
    {
        $this->captureMails();
        $this->resetZoom();
        $this->configureOAuth();
        $admin = $this->makeUser('administrator');
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $this->assertSame([], $this->mails, 'connecting sends nothing');

        KCTTokenStore::forget($doctor, 'deauthorized'); // as the app_deauthorized webhook does
        $this->assertCount(1, $this->mailsTo($doctor));
        $this->assertCount(1, $this->mailsTo($admin));
        $this->assertStringContainsString('admin.php?page=kct-zoom-doctor', $this->mailsTo($doctor)[0]['message']);
        $this->assertStringContainsString(get_userdata($doctor)->display_name, $this->mailsTo($admin)[0]['message']);
        KCTTokenStore::forget($doctor, 'deauthorized');
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
}
