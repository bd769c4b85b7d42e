<?php
use KCTApp\connection\KCTDoctorSettings;
use KCTApp\settings\KCTSettings;
use KCTApp\storage\KCTSite;
use KCTApp\visits\KCTVisits;

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

    /**
     * Found by review: a stored client secret stood for any client id, so an administrator (or
     * a doctor with their own app) who changed the app and left the secret empty saved the new
     * client id with the old app's secret, and every call to Zoom then failed. The core now
     * asks for the new app's secret, saying why, and nothing is stored.
     */
    public function testAChangedClientIdNeedsItsOwnSecretAndNothingIsStored(): void
    {
        $this->actAs($this->makeUser('administrator'));
        // The app exists at Zoom (a save asks it for a token).
        self::zoom('s2s', ['client_id' => 'AbCdEfGhIjKlMn', 'client_secret' => 'S2sSecret0123456789abc', 'account_id' => 'AcCoUnT_1234']);
        $s2s = ['auth_type' => 'server-to-server', 'account_id' => 'AcCoUnT_1234', 'client_id' => 'AbCdEfGhIjKlMn'];
        $this->assertSame(200, $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', $s2s + ['client_secret' => 'S2sSecret0123456789abc'])->get_status());
        $this->assertSame(200, $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', $s2s)->get_status(), 'the same app keeps its secret');
        $before = get_option(KCTSettings::OPTION);
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', ['client_id' => 'ZyXwVuTsRqPoNm'] + $s2s);
        $this->assertSame(400, $r->get_status());
        $error = $r->get_data()['data']['errors'][0];
        $this->assertSame(['required', 'client_secret'], [$error['code'], $error['field']]);
        $this->assertStringContainsString('client id changed', $error['message']);
        $this->assertSame($before, get_option(KCTSettings::OPTION), 'nothing stored');

        $doctor = $this->makeUser('kiviCare_doctor');
        $this->actAs($doctor);
        $own = ['auth_type' => 'server-to-server', 'account_id' => 'AcCoUnT_5678', 'client_id' => 'DoCtOrApP0001', 'zoom_user' => 'dr@clinic.example'];
        KCTDoctorSettings::saveS2s($doctor, true, $own['account_id'], $own['client_id'], 'DoctorSecret0123456789');
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed/doctor-config', ['client_id' => 'DoCtOrApP0002'] + $own);
        $this->assertSame(400, $r->get_status());
        $this->assertSame('client_secret', $r->get_data()['data']['errors'][0]['field']);
        $this->assertSame('DoCtOrApP0001', KCTDoctorSettings::s2s($doctor)['client_id'], 'the doctor\'s app unchanged');
    }

    /**
     * Found by review: the doctor's waiting-mail preference was written before the Zoom
     * fields were checked, so a save refused with 400 had changed it all the same.
     */
    public function testARefusedDoctorSaveLeavesTheWaitingMailPreferenceAsItWas(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->actAs($doctor);
        $key = KCTSite::userKey(KCTVisits::WAITING_MAIL);
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed/doctor-config', ['waiting_mail' => true,
            'auth_type' => 'server-to-server', 'account_id' => '', 'client_id' => '']);
        $this->assertSame(400, $r->get_status());
        $this->assertSame('', get_user_meta($doctor, $key, true), 'the preference is not changed by a refused save');
        $this->assertFalse(KCTDoctorSettings::s2s($doctor)['enabled']);
    }

    /**
     * Found by review: a save that named no mode (the preference alone, as a plugin or a
     * script might send it) read as "no app of my own" and switched the doctor's own
     * Server-to-Server app off. Absent means as stored, as for every other field.
     */
    public function testADoctorSaveThatNamesNoModeLeavesTheirOwnAppOn(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->actAs($doctor);
        KCTDoctorSettings::saveS2s($doctor, true, 'AcCoUnT_5678', 'DoCtOrApP0001', 'DoctorSecret0123456789');
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed/doctor-config', ['waiting_mail' => true]);
        $this->assertSame(200, $r->get_status(), wp_json_encode($r->get_data()));
        $this->assertSame('1', get_user_meta($doctor, KCTSite::userKey(KCTVisits::WAITING_MAIL), true));
        $this->assertTrue(KCTDoctorSettings::s2s($doctor)['enabled'], 'the doctor\'s own app is still on');
        $this->assertSame('server-to-server', $r->get_data()['data']['auth_type']);
        $this->assertSame(200, $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed/doctor-config', ['waiting_mail' => false])->get_status());
        $this->assertSame('0', get_user_meta($doctor, KCTSite::userKey(KCTVisits::WAITING_MAIL), true));
        $this->assertTrue(KCTDoctorSettings::s2s($doctor)['enabled']);
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
