<?php
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\privacy\KCTPrivacy;
use KCTApp\settings\KCTSettings;
use KCTApp\visits\KCTVisits;

/**
 * WordPress's privacy tools (Tools → Export / Erase Personal Data), called as WordPress calls
 * them: through the exporters and erasers the filters list, page after page.
 */
final class PrivacyTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    /** @var int */
    private $doctor;
    /** @var int */
    private $patient;

    protected function setUp(): void
    {
        parent::setUp();
        $this->resetZoom();
        $this->configureOAuth();
        $this->doctor = $this->makeUser('kiviCare_doctor', ['user_email' => 'dr.privacy@clinic.example']);
        $this->patient = $this->makeUser('kiviCare_patient', ['user_email' => 'patient.privacy@example.org', 'first_name' => 'Pat']);
        $this->connectDoctor($this->doctor);
        $this->assertTrue(KCTSettings::save(['policy' => ['register_patient' => true]]));
        // Appointment 571 took place in 2020 (with its visit); 572 is still to come.
        foreach ([571 => '2030-02-01 10:00:00', 572 => '2030-02-02 10:00:00'] as $id => $start) {
            $this->bookAppointment($id, $this->doctor, $this->patient, $start, 30, 'UTC');
            $row = $this->ensureMeeting(['appointment_id' => $id, 'doctor_id' => $this->doctor, 'patient_id' => $this->patient,
                'start_time' => $start, 'duration' => 30, 'timezone' => 'UTC']);
            $this->assertIsArray($row, is_wp_error($row) ? $row->get_error_message() : '');
        }
        global $wpdb;
        $wpdb->update(KCTMappingRepository::table(), ['start_time' => '2020-02-01 10:00:00'], ['appointment_id' => 571]);
        $wpdb->insert(KCTVisits::table(), ['appointment_id' => 571, 'zoom_id' => (string) KCTMappingRepository::find(571)['zoom_id'],
            'patient_joined_at' => 1580551260, 'patient_left_at' => 1580552640, 'together_seconds' => 1320, 'outcome' => 'checked_out',
            'patient_known_by' => 'registrant', 'updated_at' => gmdate('Y-m-d H:i:s')]);
    }

    /** @return callable the plugin's exporter or eraser, as WordPress's tools find it */
    private static function tool(string $kind): callable
    {
        $tools = apply_filters("wp_privacy_personal_data_{$kind}s", []);
        return $tools['kivicare-telemed-zoom']['callback'];
    }

    /** @return array<string, array<string, string>> each exported item's fields, by item id */
    private static function exported(string $email): array
    {
        $items = [];
        for ($page = 1; $page < 10; $page++) {
            $out = call_user_func(self::tool('exporter'), $email, $page);
            foreach ($out['data'] as $item) {
                $items[$item['item_id']] = array_column($item['data'], 'value', 'name');
            }
            if ($out['done']) {
                break;
            }
        }
        return $items;
    }

    public function testAPatientsConsultationsAndAttendanceAreExportedWithoutAnyLink(): void
    {
        $items = self::exported('patient.privacy@example.org');
        $this->assertSame(['kct-zoom-consultations-571', 'kct-zoom-visits-571', 'kct-zoom-consultations-572'], array_keys($items));
        $past = $items['kct-zoom-consultations-571'];
        $this->assertSame((string) KCTMappingRepository::find(571)['zoom_id'], $past['Zoom meeting']);
        $this->assertSame('patient.privacy@example.org', $past['Registered at Zoom with']);
        $this->assertSame('30 minutes', $past['Length']);
        $this->assertSame('22 minutes', $items['kct-zoom-visits-571']['Together']);
        $this->assertSame('Checked out', $items['kct-zoom-visits-571']['Outcome']);
        $this->assertStringNotContainsString('http', json_encode($items), 'no join or start link, no secret');
        // The doctor: their Zoom connection, and no patient's consultation.
        $this->assertSame(['kct-zoom-connection-' . $this->doctor], array_keys(self::exported('dr.privacy@clinic.example')));
        $this->assertSame('connected', self::exported('dr.privacy@clinic.example')['kct-zoom-connection-' . $this->doctor]['Connection']);
        $this->assertSame([], self::exported('nobody@example.org'));
    }

    public function testErasingKeepsWhatAConsultationStillToComeNeedsAndRemovesTheRest(): void
    {
        $future = KCTMappingRepository::find(572);
        $out = call_user_func(self::tool('eraser'), 'patient.privacy@example.org', 1);
        $this->assertTrue($out['items_removed']);
        $this->assertTrue($out['items_retained']);
        $this->assertTrue($out['done']);
        $this->assertCount(2, $out['messages'], 'why one was kept, and that Zoom keeps its own records');
        $past = KCTMappingRepository::find(571);
        $this->assertNull($past['registered_email']);
        $this->assertNull($past['registrant_id']);
        $this->assertNull($past['patient_join_url']);
        $this->assertNull(KCTVisits::find(571));
        $this->assertSame('active', $past['status'], 'the meeting record itself stays');
        $now = KCTMappingRepository::find(572);
        $this->assertSame($future['patient_join_url'], $now['patient_join_url'], 'the link still to be used is kept');
        $this->assertSame($future['version'], $now['version']);
        // Asked again: nothing more to remove.
        $again = call_user_func(self::tool('eraser'), 'patient.privacy@example.org', 1);
        $this->assertFalse($again['items_removed']);
    }

    public function testThePrivacyPolicyGuideSaysWhatGoesToZoom(): void
    {
        $text = KCTPrivacy::policyText();
        $this->assertStringContainsString('Zoom receives the appointment\'s date, time and length', $text);
        $this->assertStringContainsString('the patient\'s name and email address', $text);
        $this->assertStringContainsString('who joined, left or waited', $text);
        // Offered in WordPress's guide: added on admin_init, in wp-admin, as WordPress asks.
        require_once ABSPATH . 'wp-admin/includes/class-wp-screen.php';
        require_once ABSPATH . 'wp-admin/includes/screen.php';
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        require_once ABSPATH . 'wp-admin/includes/class-wp-privacy-policy-content.php';
        global $wp_filter, $current_screen;
        $hooks = $wp_filter['admin_init'] ?? null;
        $this->assertNotFalse(has_action('admin_init', [KCTPrivacy::class, 'policy']));
        unset($wp_filter['admin_init']); // WordPress's own admin_init work is not this test's
        try {
            add_action('admin_init', [KCTPrivacy::class, 'policy']);
            set_current_screen('dashboard');
            do_action('admin_init');
            $offered = array_column(WP_Privacy_Policy_Content::get_suggested_policy_text(), 'policy_text', 'plugin_name');
        } finally {
            $wp_filter['admin_init'] = $hooks;
            $current_screen = null;
        }
        $this->assertStringContainsString('Zoom receives the appointment', $offered['KiviCare Telemed – Zoom'] ?? '');
    }
}
