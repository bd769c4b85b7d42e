<?php

namespace KCTApp\meetings;

use KCTApp\telemed\KCTAppointmentFacts;

/**
 * The appointment as KiviCare has it now, in the shape the core's lifecycle step reads:
 * whether it exists, its status, doctor, patient, and times in Unix UTC. Read from
 * KiviCare's own table, not from what a hook passed earlier, so a queued retry sees a
 * deletion, a cancellation or a reassignment. Where KiviCare's table is absent the facts
 * KiviCare passed are all there is (`known` false).
 */
final class KCTAppointments
{
    public static function table(): string
    {
        global $wpdb;
        return $wpdb->prefix . 'kc_appointments';
    }

    /** @var array<string, bool> which of KiviCare's tables exist, asked once per request */
    private static $tables = [];

    private static function has(string $table): bool
    {
        global $wpdb;
        if (!isset(self::$tables[$table])) {
            self::$tables[$table] = $wpdb->get_var($wpdb->prepare('SHOW TABLES LIKE %s', $wpdb->esc_like($table))) === $table;
        }
        return self::$tables[$table];
    }

    private static function tableExists(): bool
    {
        return self::has(self::table());
    }

    /**
     * @param int   $id
     * @param array $passed facts from what KiviCare just passed (KCTAppointmentFacts shape);
     *                      their times win over the table's when `$timesFromPassed` (KiviCare
     *                      calls update_meeting before it writes the new times, CONTRACT §9)
     */
    public static function now(int $id, array $passed = [], bool $timesFromPassed = false): array
    {
        global $wpdb;
        $t = self::table();
        // One query, no `SHOW TABLES` before it: a read that fails (KiviCare's table absent,
        // or the database refusing) leaves the appointment unknown, never deleted.
        $suppress = $wpdb->suppress_errors(true);
        $row = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE id = %d", $id), ARRAY_A);
        $unreadable = $wpdb->last_error !== '';
        $wpdb->suppress_errors($suppress);
        if ($unreadable) {
            $a = ['known' => false, 'exists' => true];
            foreach (['doctor_id', 'patient_id', 'start_unix', 'duration_min', 'timezone'] as $k) {
                if (!empty($passed[$k])) {
                    $a[$k] = $passed[$k];
                }
            }
            if (isset($passed['status'])) {
                $a['status'] = (int) $passed['status']; // 0 (cancelled) included
            }
            return $a;
        }
        if (!$row) {
            return ['known' => true, 'exists' => false];
        }
        $a = ['known' => true, 'exists' => true, 'status' => (int) $row['status'],
            'doctor_id' => (int) $row['doctor_id'], 'patient_id' => (int) $row['patient_id']] + self::times($row);
        if ($timesFromPassed) {
            foreach (['start_unix', 'duration_min'] as $k) {
                if (isset($passed[$k])) {
                    $a[$k] = (int) $passed[$k];
                }
            }
        }
        return $a;
    }

    /**
     * Who the patient is, as WordPress knows them (email lowercased): for registering them on
     * the meeting and for telling them apart in Zoom's events. Null without an email.
     *
     * @return array{email: string, first_name: string, last_name: string}|null
     */
    public static function patient(int $patientId): ?array
    {
        $u = $patientId > 0 ? get_userdata($patientId) : false;
        if (!$u || $u->user_email === '') {
            return null;
        }
        return ['email' => strtolower($u->user_email), 'first_name' => (string) ($u->first_name ?: $u->display_name),
            'last_name' => (string) $u->last_name];
    }

    /**
     * Whether KiviCare books the appointment as telemedicine: one of its services is a
     * telemedicine service *of the appointment's doctor* (CONTRACT §8.14: KiviCare's own check
     * forgets the doctor). Null when KiviCare's tables cannot be read.
     */
    public static function isTelemed(int $id): ?bool
    {
        global $wpdb;
        $asm = $wpdb->prefix . 'kc_appointment_service_mapping';
        $sdm = $wpdb->prefix . 'kc_service_doctor_mapping';
        if (!self::tableExists() || !self::has($sdm) || !self::has($asm)) {
            return null;
        }
        $t = self::table();
        return (bool) $wpdb->get_var($wpdb->prepare(
            "SELECT 1 FROM $asm asm JOIN $t a ON a.id = asm.appointment_id
             JOIN $sdm sdm ON sdm.service_id = asm.service_id AND sdm.doctor_id = a.doctor_id
             WHERE asm.appointment_id = %d AND sdm.telemed_service = 'yes' LIMIT 1",
            $id
        ));
    }

    /**
     * Whether a clinic administrator or receptionist works at the appointment's clinic, as
     * KiviCare records it (kc_clinics.clinic_admin_id, kc_receptionist_clinic_mappings).
     */
    public static function isClinicStaff(int $id, int $userId): bool
    {
        global $wpdb;
        $user = $userId > 0 ? get_userdata($userId) : false;
        $roles = $user ? (array) $user->roles : [];
        // The roles first (loaded with the user): a patient's list asks the database nothing here.
        if (!array_intersect(['kiviCare_clinic_admin', 'kiviCare_receptionist'], $roles) || !self::tableExists()) {
            return false;
        }
        $t = self::table();
        $clinic = (int) $wpdb->get_var($wpdb->prepare("SELECT clinic_id FROM $t WHERE id = %d", $id));
        if ($clinic <= 0) {
            return false;
        }
        $clinics = $wpdb->prefix . 'kc_clinics';
        $reception = $wpdb->prefix . 'kc_receptionist_clinic_mappings';
        $suppress = $wpdb->suppress_errors(true);
        $admin = in_array('kiviCare_clinic_admin', $roles, true)
            && (bool) $wpdb->get_var($wpdb->prepare("SELECT 1 FROM $clinics WHERE id = %d AND clinic_admin_id = %d", $clinic, $userId));
        $receptionist = !$admin && in_array('kiviCare_receptionist', $roles, true)
            && (bool) $wpdb->get_var($wpdb->prepare("SELECT 1 FROM $reception WHERE clinic_id = %d AND receptionist_id = %d", $clinic, $userId));
        $wpdb->suppress_errors($suppress);
        return $admin || $receptionist;
    }

    /** The appointment's own zone (the doctor's), as KiviCare stores it. */
    public static function zone(int $id): ?string
    {
        if (!self::tableExists()) {
            return null;
        }
        global $wpdb;
        $t = self::table();
        $cols = $wpdb->get_col("SHOW COLUMNS FROM $t");
        if (!in_array('appointment_timezone', $cols, true)) {
            return null;
        }
        $tz = $wpdb->get_var($wpdb->prepare("SELECT appointment_timezone FROM $t WHERE id = %d", $id));
        return is_string($tz) && $tz !== '' ? $tz : null;
    }

    /** Start, duration and zone: the UTC columns when KiviCare filled them (4.3.0), else local. */
    private static function times(array $row): array
    {
        $tz = KCTAppointmentFacts::ianaOrUtc($row['appointment_timezone'] ?? wp_timezone_string());
        if (!empty($row['appointment_start_utc'])) {
            $start = strtotime($row['appointment_start_utc'] . ' UTC');
            $end = !empty($row['appointment_end_utc']) ? strtotime($row['appointment_end_utc'] . ' UTC') : false;
        } else {
            $zone = new \DateTimeZone($tz);
            $s = \DateTimeImmutable::createFromFormat('Y-m-d H:i:s', $row['appointment_start_date'] . ' ' . $row['appointment_start_time'], $zone);
            $e = \DateTimeImmutable::createFromFormat('Y-m-d H:i:s', ($row['appointment_end_date'] ?: $row['appointment_start_date']) . ' ' . $row['appointment_end_time'], $zone);
            $start = $s ? $s->getTimestamp() : false;
            $end = $e ? $e->getTimestamp() : false;
        }
        $out = ['timezone' => $tz];
        if ($start) {
            $out['start_unix'] = $start;
            $out['duration_min'] = KCTAppointmentFacts::minutesBetween($start, $end);
        }
        return $out;
    }
}
