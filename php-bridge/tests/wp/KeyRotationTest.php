<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\diagnostics\KCTDiagnostics;
use KCTApp\security\KCTVault;
use KCTApp\telemed\KCTZoom;

/**
 * The salts rotate (or KCT_ZOOM_ENCRYPTION_KEY changes): every stored secret is unreadable.
 * Found by the abuse review: nothing said so, and is_configured() still answered yes.
 */
final class KeyRotationTest extends KCTWPTestCase
{
    use KCTZoomFixtures;

    public static function rotated($salt)
    {
        return $salt . '-rotated';
    }

    public function testAChangedKeyIsNoticedDoctorsReconnectAndNewSecretsAcceptIt(): void
    {
        $this->captureMails();
        try {
            $this->resetZoom();
            $this->configureOAuth();
            $doctor = $this->makeUser('kiviCare_doctor');
            $this->connectDoctor($doctor);
            $providers = apply_filters('kc_telemed_providers', []);
            $provider = new $providers['zoom']['class']($providers['zoom']['settings_key']);
            $this->assertTrue($provider->is_configured());
            $this->assertFalse(KCTVault::keyChanged());

            add_filter('salt', [self::class, 'rotated']);
            $this->assertTrue(KCTVault::keyChanged());
            $this->assertFalse($provider->is_configured(), 'a secret that no longer decrypts is not a configuration');
            $check = KCTDiagnostics::encryptionKey();
            $this->assertSame('critical', $check['status']);
            $this->actAs($this->makeUser('administrator'));
            ob_start();
            KCTDiagnostics::adminNotice();
            $this->assertStringContainsString('encryption key', (string) ob_get_clean());

            // The daily check puts the doctor in "reconnect", and they hear it once.
            $this->assertSame([$doctor], KCTTokenStore::checkAll());
            $this->assertSame('reconnect_required', KCTTokenStore::connection($doctor));
            $this->assertCount(1, $this->mailsTo($doctor));

            // The administrator enters the clinic's secret again: the new key is the key.
            $this->configureOAuth();
            $this->assertFalse(KCTVault::keyChanged());
            $this->assertTrue($provider->is_configured());
        } finally {
            remove_filter('salt', [self::class, 'rotated']);
        }
    }
}
