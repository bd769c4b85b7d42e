<?php
use KCTApp\settings\KCTSettings;

/** Settings are checked in every mode, and an oversized field is refused by name. */
final class SettingsHardeningTest extends KCTWPTestCase
{
    public function testAJavascriptRedirectUrlIsRefusedInServerToServerModeToo(): void
    {
        $this->actAs($this->makeUser('administrator'));
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', ['auth_type' => 'server-to-server', 'account_id' => 'AcCoUnT_1234',
            'client_id' => 'AbCdEfGhIjKlMn', 'client_secret' => 'S2sSecret0123456789abc', 'redirect_url' => 'javascript:alert(document.cookie)']);
        $this->assertSame(400, $r->get_status());
        $this->assertSame('redirect_url', $r->get_data()['data']['errors'][0]['field']);
        $stored = get_option(KCTSettings::OPTION);
        $this->assertStringNotContainsString('javascript', is_array($stored) ? (string) ($stored['redirect_url'] ?? '') : '', 'nothing stored');
    }

    public function testAnOversizedFieldIsRefusedByName(): void
    {
        $this->actAs($this->makeUser('administrator'));
        foreach (['client_id', 'client_secret', 'account_id', 'redirect_url', 'webhook_secret'] as $field) {
            $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', ['auth_type' => 'oauth', $field => str_repeat('a', 1 << 20)]);
            $this->assertSame(400, $r->get_status(), $field);
            $this->assertSame('rest_invalid_param', $r->get_data()['code'], $field);
            $this->assertArrayHasKey($field, $r->get_data()['data']['params'], 'the answer names ' . $field);
        }
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->actAs($doctor);
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed/doctor-config', ['auth_type' => 'server-to-server', 'zoom_user' => str_repeat('a', 5000) . '@x.org']);
        $this->assertSame(400, $r->get_status());
        $this->assertArrayHasKey('zoom_user', $r->get_data()['data']['params']);
    }
}
