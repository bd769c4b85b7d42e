<?php
/**
 * KiviCare encrypts every kivicare/v* answer to a user who has opened its dashboard
 * (CONTRACT §9; the test bed has a stand-in of that filter). The addon's own screens use
 * kct-zoom/v1, which it leaves alone; KiviCare's dashboard keeps its kivicare/v1 routes.
 */
final class EncryptionTest extends KCTHttpTestCase
{
    public function testTheAddonsScreensReadPlainAnswersAfterKiviCaresDashboardWasOpened(): void
    {
        $adminId = $this->makeUser('administrator');
        $admin = $this->credentials($adminId);
        update_user_meta($adminId, 'client_public_key', 'dashboard-opened');

        [$status, $body, $headers] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed', null, $admin);
        $this->assertSame(200, $status);
        $this->assertSame('true', $headers['x-kivicare-encrypted'] ?? '', 'the stand-in encrypts kivicare/v*');
        $this->assertIsString($body, 'an encrypted body, not the envelope');

        [$status, $body, $headers] = $this->http('GET', '/wp-json/kct-zoom/v1/settings/zoom-telemed', null, $admin);
        $this->assertSame(200, $status);
        $this->assertArrayNotHasKey('x-kivicare-encrypted', $headers);
        $this->assertTrue($body['status']);
        $this->assertArrayHasKey('auth_type', $body['data']);

        [$status] = $this->http('GET', '/wp-json/kct-zoom/v1/settings/zoom-telemed/callback?code=x&state=y');
        $this->assertSame(404, $status, 'Zoom knows one callback URL: the public routes are not duplicated');
    }
}
