<?php
use KCTApp\meetings\KCTMeetingLoop;
use KCTApp\telemed\KCTAppointmentFacts;

/**
 * KiviCare's side of the test bed: its appointments table (a test-only stand-in with the
 * 4.3.0 columns the addon reads, CONTRACT §9) and appointments booked in it the way
 * KiviCare stores them (local date and time in the appointment's zone, plus UTC columns).
 */
function kct_test_create_appointments_table(): void
{
    {
        global $wpdb;
        $t = $wpdb->prefix . 'kc_appointments';
        $wpdb->query("CREATE TABLE IF NOT EXISTS $t (
            id bigint NOT NULL AUTO_INCREMENT,
            appointment_start_date date DEFAULT NULL,
            appointment_start_time time DEFAULT NULL,
            appointment_end_date date DEFAULT NULL,
            appointment_end_time time DEFAULT NULL,
            clinic_id bigint UNSIGNED NOT NULL DEFAULT 1,
            doctor_id bigint UNSIGNED NOT NULL,
            patient_id bigint UNSIGNED NOT NULL,
            status tinyint UNSIGNED DEFAULT '0',
            created_at datetime DEFAULT NULL,
            appointment_start_utc datetime NULL,
            appointment_end_utc datetime NULL,
            appointment_timezone varchar(64) NOT NULL DEFAULT 'UTC',
            PRIMARY KEY (id)
        ) " . $wpdb->get_charset_collate());
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}kc_clinics (
            id bigint NOT NULL AUTO_INCREMENT,
            name varchar(191) DEFAULT NULL,
            clinic_admin_id bigint NOT NULL DEFAULT '0',
            PRIMARY KEY (id)
        ) " . $wpdb->get_charset_collate());
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}kc_receptionist_clinic_mappings (
            id bigint NOT NULL AUTO_INCREMENT,
            receptionist_id bigint UNSIGNED NOT NULL,
            clinic_id bigint UNSIGNED NOT NULL,
            created_at datetime DEFAULT NULL,
            PRIMARY KEY (id)
        ) " . $wpdb->get_charset_collate());
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}kc_appointment_service_mapping (
            id bigint NOT NULL AUTO_INCREMENT,
            appointment_id bigint DEFAULT '0',
            service_id int DEFAULT '0',
            status int DEFAULT '0',
            created_at datetime DEFAULT NULL,
            PRIMARY KEY (id)
        ) " . $wpdb->get_charset_collate());
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}kc_service_doctor_mapping (
            id bigint NOT NULL AUTO_INCREMENT,
            service_id int DEFAULT '0',
            doctor_id bigint UNSIGNED DEFAULT '0',
            clinic_id int DEFAULT '0',
            telemed_service varchar(10) DEFAULT NULL,
            status int DEFAULT '1',
            created_at datetime NOT NULL,
            duration int DEFAULT NULL,
            PRIMARY KEY (id)
        ) " . $wpdb->get_charset_collate());
    }
}

/**
 * Writes (or rewrites) appointment `$id` as KiviCare stores it: local date and time in `$tz`,
 * plus the UTC columns. The test suites, the soak and the demo all book through it.
 *
 * @param string $localStart wall-clock start in `$tz`, `Y-m-d H:i:s`
 */
function kct_test_write_appointment(int $id, int $doctor, int $patient, string $localStart, int $minutes, string $tz, int $status): void
{
    global $wpdb;
    $start = new \DateTimeImmutable($localStart, new \DateTimeZone($tz));
    $end = $start->modify("+$minutes minutes");
    $utc = new \DateTimeZone('UTC');
    $wpdb->replace($wpdb->prefix . 'kc_appointments', [
        'id' => $id, 'doctor_id' => $doctor, 'patient_id' => $patient, 'status' => $status,
        'appointment_start_date' => $start->format('Y-m-d'), 'appointment_start_time' => $start->format('H:i:s'),
        'appointment_end_date' => $end->format('Y-m-d'), 'appointment_end_time' => $end->format('H:i:s'),
        'appointment_start_utc' => $start->setTimezone($utc)->format('Y-m-d H:i:s'),
        'appointment_end_utc' => $end->setTimezone($utc)->format('Y-m-d H:i:s'),
        'appointment_timezone' => $tz, 'created_at' => current_time('mysql'),
    ]);
}

trait KCTKiviCareFixtures
{
    /**
     * Books (or rewrites) appointment `$id` as KiviCare stores it.
     *
     * @param string $localStart wall-clock start in `$tz`, `Y-m-d H:i:s`
     */
    protected function bookAppointment(int $id, int $doctor, int $patient, string $localStart = '2030-01-01 15:30:00',
        int $minutes = 30, string $tz = 'Asia/Kolkata', int $status = 1): void
    {
        kct_test_write_appointment($id, $doctor, $patient, $localStart, $minutes, $tz, $status);
    }

    /** The appointment's service: a telemedicine service of `$doctor` (KiviCare's two mapping tables). */
    protected function addTelemedService(int $appointmentId, int $doctor, int $serviceId = 77, string $telemed = 'yes'): void
    {
        global $wpdb;
        $wpdb->insert($wpdb->prefix . 'kc_service_doctor_mapping', ['service_id' => $serviceId, 'doctor_id' => $doctor,
            'telemed_service' => $telemed, 'created_at' => current_time('mysql')]);
        $wpdb->insert($wpdb->prefix . 'kc_appointment_service_mapping', ['appointment_id' => $appointmentId, 'service_id' => $serviceId,
            'created_at' => current_time('mysql')]);
    }

    protected function setAppointment(int $id, array $fields): void
    {
        global $wpdb;
        $wpdb->update($wpdb->prefix . 'kc_appointments', $fields, ['id' => $id]);
    }

    protected function deleteAppointment(int $id): void
    {
        global $wpdb;
        $wpdb->delete($wpdb->prefix . 'kc_appointments', ['id' => $id]);
    }

    /** Books the appointment, then makes sure it has a meeting: the row, or why not. */
    protected function ensureMeeting(array $data)
    {
        // KiviCare's meeting data, or facts already (start_unix).
        $facts = isset($data['start_unix']) ? $data : KCTAppointmentFacts::fromMeetingData($data);
        $start = (new \DateTimeImmutable('@' . $facts['start_unix']))->setTimezone(new \DateTimeZone($facts['timezone']));
        $this->bookAppointment($facts['appointment_id'], $facts['doctor_id'], (int) ($facts['patient_id'] ?? 0),
            $start->format('Y-m-d H:i:s'), $facts['duration_min'], $facts['timezone']);
        $out = KCTMeetingLoop::run($facts['appointment_id'], 'ensure', $facts);
        if (is_wp_error($out) || \KCTApp\meetings\KCTMappingRepository::isLive($out['row'])) {
            return is_wp_error($out) ? $out : $out['row'];
        }
        return new \WP_Error('kct_not_live', 'no live meeting', ['effect' => $out['effect'], 'reason' => $out['effect']['reason'] ?? null]);
    }
}
