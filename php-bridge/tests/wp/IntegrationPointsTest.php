<?php
use KCTApp\models\KCTAppointmentZoomMapping;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\telemed\KCTAppointmentFacts;
use KCTApp\telemed\KCTAppointmentLinks;

/** The places KiviCare core reads from the addon: model schema, list payloads, emails, routes. */
final class IntegrationPointsTest extends KCTWPTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    public function testModelSchemaMatchesTheTableAndCoresPropertyNames(): void
    {
        global $wpdb;
        $schema = KCTAppointmentZoomMapping::schemaForTests();
        foreach (['table_name', 'primary_key', 'columns', 'timestamps', 'soft_deletes'] as $k) {
            $this->assertArrayHasKey($k, $schema, "core reads $k without isset");
        }
        $this->assertSame($wpdb->prefix . $schema['table_name'], KCTMappingRepository::table());
        $columns = $wpdb->get_col('SHOW COLUMNS FROM ' . KCTMappingRepository::table());
        foreach (['id', 'appointmentId', 'zoomId', 'joinUrl', 'startUrl', 'password'] as $property) {
            $this->assertArrayHasKey($property, $schema['columns'], "core uses $property");
        }
        foreach ($schema['columns'] as $property => $def) {
            $this->assertContains($def['column'], $columns, "$property maps to a real column");
        }
        $this->assertTrue($schema['timestamps']);
        $this->assertContains('created_at', $columns);
        $this->assertContains('updated_at', $columns);
    }

    /** @return array{0: int, 1: int, 2: array} a connected doctor, a patient, and their appointment's meeting row */
    private function connectedMeeting(int $id): array
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $patient = $this->makeUser('kiviCare_patient');
        $this->connectDoctor($doctor);
        return [$doctor, $patient, $this->meeting($id, $doctor, $patient)];
    }

    private function meeting(int $id, int $doctor, int $patient): array
    {
        $row = $this->ensureMeeting((['appointment_id' => $id, 'doctor_id' => $doctor,
            'patient_id' => $patient, 'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        $this->assertIsArray($row);
        return $row;
    }

    public function testEachRoleGetsItsOwnLink(): void
    {
        [$doctor, $patient, $m] = $this->connectedMeeting(901);

        $this->actAs($patient);
        $row = apply_filters('kc_appointment_list_item', ['id' => 901], null);
        $this->assertSame($m['join_url'], $row['video_url']);
        $this->assertArrayNotHasKey('startUrl', $row['zoom_data']);

        $this->actAs($doctor);
        $row = apply_filters('kc_appointment_list_item', ['id' => 901], null);
        $this->assertSame(KCTAppointmentLinks::hostLink(901), $row['video_url'], 'a click-to-start link, never the expiring credential');
        $this->assertStringNotContainsString('zak=', wp_json_encode($row));
        $start = KCTAppointmentLinks::startUrlFor(901, $doctor);
        $this->assertIsString($start);
        $this->assertStringContainsString('zak=', $start);

        $this->actAs($this->makeUser('kiviCare_doctor'));
        $this->assertArrayNotHasKey('video_url', apply_filters('kc_appointment_list_item', ['id' => 901], null));
        $this->assertInstanceOf(\WP_Error::class, KCTAppointmentLinks::startUrlFor(901, get_current_user_id()));

        $this->assertSame(KCTAppointmentLinks::hostLink(901), apply_filters('kivicare_custom_email_key_value', null, 'zoom_host_link', ['appointment_id' => 901]));
        $this->assertSame('kept', apply_filters('kivicare_custom_email_key_value', 'kept', 'other_key', []), 'unknown keys pass through');
        $keys = apply_filters('kivicare_template_dynamic_keys', ['kiviCare_add_doctor_zoom_link' => ['{{add_doctor_zoom_link}}']]);
        $this->assertContains('{{zoom_host_link}}', $keys['kiviCare_add_doctor_zoom_link']);

        // Found inside KiviCare 4.3.0 (CONTRACT §9): its template keys are lower case, and the
        // data handed to templates nests the appointment.
        $keys = apply_filters('kivicare_template_dynamic_keys', ['kivicare_add_doctor_zoom_link' => ['{{add_doctor_zoom_link}}']]);
        $this->assertContains('{{zoom_host_link}}', $keys['kivicare_add_doctor_zoom_link']);
        $data = ['appointment' => ['id' => 901], 'patient' => [], 'doctor' => [], 'zoom_link' => $m['join_url']];
        $this->assertSame(KCTAppointmentLinks::hostLink(901), apply_filters('kivicare_custom_email_key_value', null, 'zoom_host_link', $data));
        // KiviCare's doctor mail carries the join link as {{add_doctor_zoom_link}}: the doctor gets the start link.
        $html = '<p>Join: <a href="' . esc_url($m['join_url']) . '">' . esc_html($m['join_url']) . '</a></p>';
        $doctorMail = apply_filters('kivicare_process_email_template', $html, $data + ['add_doctor_zoom_link' => $m['join_url']]);
        $this->assertStringNotContainsString(esc_url($m['join_url']), $doctorMail);
        $this->assertStringContainsString(esc_url(KCTAppointmentLinks::hostLink(901)), $doctorMail);
        $this->assertSame($html, apply_filters('kivicare_process_email_template', $html, $data), 'the patient\'s mail keeps the join link');
    }

    /**
     * Found by review: the staff of the appointment's clinic got no `video_url`, so KiviCare
     * showed them its regenerate button on a checked-in appointment, which replaced the live
     * meeting (and the patient's link) while the patient waited. They see the meeting's link
     * now, as administrators do; staff of another clinic still see nothing.
     */
    public function testTheClinicsStaffSeeTheMeetingNotARegenerateButton(): void
    {
        global $wpdb;
        [$doctor, $patient, $m] = $this->connectedMeeting(903);
        $this->setAppointment(903, ['clinic_id' => 7]);
        $reception = $this->makeUser('kiviCare_receptionist');
        $elsewhere = $this->makeUser('kiviCare_receptionist');
        $wpdb->insert($wpdb->prefix . 'kc_receptionist_clinic_mappings', ['receptionist_id' => $reception, 'clinic_id' => 7]);
        $wpdb->insert($wpdb->prefix . 'kc_receptionist_clinic_mappings', ['receptionist_id' => $elsewhere, 'clinic_id' => 8]);

        $this->actAs($reception);
        $row = apply_filters('kc_appointment_list_item', ['id' => 903], null);
        $this->assertSame($m['join_url'], $row['video_url']);
        $this->assertSame('', $row['zoom_data']['startUrl'], 'no host link for staff');
        $this->actAs($elsewhere);
        $this->assertArrayNotHasKey('video_url', apply_filters('kc_appointment_list_item', ['id' => 903], null));
        $this->actAs($patient);
        $this->assertSame($m['join_url'], apply_filters('kc_appointment_list_item', ['id' => 903], null)['video_url']);
    }

    public function testRegeneratePermissionIsPatched(): void
    {
        $doctor = $this->makeUser('kiviCare_doctor');
        $now = current_time('mysql', true);
        global $wpdb;
        $wpdb->insert(KCTMappingRepository::table(), ['appointment_id' => 902, 'doctor_id' => $doctor, 'status' => 'active',
            'correlation_ref' => 'kc-regen000000000000', 'created_at' => $now, 'updated_at' => $now]);
        $args = apply_filters('kivicare_route_args___/appointments/(?P<id>\d+)/regenerate-video-conference', ['methods' => 'GET']);
        $check = $args['permission_callback'];
        $request = ['id' => 902];
        $cases = [
            [$this->makeUser('administrator'), true],
            [$doctor, true],
            [$this->makeUser('kiviCare_doctor'), false],
            [$this->makeUser('kiviCare_receptionist'), false],
            [$this->makeUser('kiviCare_patient'), false],
            [0, false],
        ];
        foreach ($cases as [$user, $allowed]) {
            $this->actAs($user);
            $this->assertSame($allowed, $check($request), "user $user");
        }

        // KiviCare's intent (§7, §9): also the clinic admins and receptionists of the
        // appointment's own clinic (found inside 4.3.0: they got 403).
        $this->bookAppointment(902, $doctor, $this->makeUser('kiviCare_patient'));
        $this->setAppointment(902, ['clinic_id' => 5]);
        $adminOf5 = $this->makeUser('kiviCare_clinic_admin');
        $adminOf6 = $this->makeUser('kiviCare_clinic_admin');
        $wpdb->insert($wpdb->prefix . 'kc_clinics', ['id' => 5, 'name' => 'Five', 'clinic_admin_id' => $adminOf5]);
        $wpdb->insert($wpdb->prefix . 'kc_clinics', ['id' => 6, 'name' => 'Six', 'clinic_admin_id' => $adminOf6]);
        $receptionOf5 = $this->makeUser('kiviCare_receptionist');
        $receptionOf6 = $this->makeUser('kiviCare_receptionist');
        $wpdb->insert($wpdb->prefix . 'kc_receptionist_clinic_mappings', ['receptionist_id' => $receptionOf5, 'clinic_id' => 5]);
        $wpdb->insert($wpdb->prefix . 'kc_receptionist_clinic_mappings', ['receptionist_id' => $receptionOf6, 'clinic_id' => 6]);
        $patientAsReception = $this->makeUser('kiviCare_patient');
        $wpdb->insert($wpdb->prefix . 'kc_receptionist_clinic_mappings', ['receptionist_id' => $patientAsReception, 'clinic_id' => 5]);
        foreach ([[$adminOf5, true], [$adminOf6, false], [$receptionOf5, true], [$receptionOf6, false], [$patientAsReception, false], [$doctor, true]] as [$user, $allowed]) {
            $this->actAs($user);
            $this->assertSame($allowed, $check($request), "user $user");
        }
    }
}
