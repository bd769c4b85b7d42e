<?php
namespace KCTApp\models;

use KCTApp\database\migrations\KCTMigration0001CreateMappings;
use KCTApp\security\KCTVault;

/**
 * Mapping rows in `{prefix}kc_appointment_zoom_mappings`, converted to and from the core's
 * row shape (Unix times, decrypted start link). The start link is stored encrypted.
 */
final class KCTMappingRepository
{
    const FIELDS = ['appointment_id', 'doctor_id', 'patient_id', 'host', 'status', 'correlation_ref', 'zoom_id',
        'join_url', 'start_url', 'password', 'start_time', 'duration', 'timezone', 'meeting_state',
        'start_url_fetched_at', 'last_error', 'updated_at'];

    public static function table(): string
    {
        return KCTMigration0001CreateMappings::table();
    }

    private static function utc(?int $t): ?string
    {
        return $t === null ? null : gmdate('Y-m-d H:i:s', $t);
    }

    private static function unix(?string $dt): ?int
    {
        return $dt === null || $dt === '' ? null : (int) strtotime($dt . ' UTC');
    }

    /** A table row as the core's MappingRow. */
    public static function toCore($db): array
    {
        $db = (array) $db;
        $startTime = $db['start_time'] ?? null;
        return [
            'appointment_id' => (int) $db['appointment_id'],
            'doctor_id' => isset($db['doctor_id']) ? (int) $db['doctor_id'] : null,
            'patient_id' => isset($db['patient_id']) ? (int) $db['patient_id'] : null,
            'host' => $db['host'],
            'status' => $db['status'],
            'correlation_ref' => $db['correlation_ref'],
            'zoom_id' => $db['zoom_id'],
            'join_url' => $db['join_url'],
            // Undecryptable reads as "no link": the next view fetches a fresh one.
            'start_url' => KCTVault::decrypt($db['start_url'] ?? null),
            'password' => $db['password'],
            'start_time' => $startTime ? str_replace(' ', 'T', $startTime) . 'Z' : null,
            'duration' => isset($db['duration']) ? (int) $db['duration'] : null,
            'timezone' => $db['timezone'],
            'meeting_state' => $db['meeting_state'],
            'start_url_fetched_at' => self::unix($db['start_url_fetched_at'] ?? null),
            'last_error' => $db['last_error'],
            'updated_at' => self::unix($db['updated_at']) ?? time(),
        ];
    }

    private static function toDb(array $row): array
    {
        $startTime = isset($row['start_time']) && $row['start_time'] ? strtotime($row['start_time']) : null;
        return [
            'appointment_id' => $row['appointment_id'],
            'doctor_id' => $row['doctor_id'] ?? null,
            'patient_id' => $row['patient_id'] ?? null,
            'host' => $row['host'] ?? null,
            'status' => $row['status'],
            'correlation_ref' => $row['correlation_ref'],
            'zoom_id' => $row['zoom_id'] ?? null,
            'join_url' => $row['join_url'] ?? null,
            'start_url' => !empty($row['start_url']) ? KCTVault::encrypt($row['start_url']) : null,
            'password' => $row['password'] ?? null,
            'start_time' => $startTime ? gmdate('Y-m-d H:i:s', $startTime) : null,
            'duration' => $row['duration'] ?? null,
            'timezone' => $row['timezone'] ?? null,
            'meeting_state' => $row['meeting_state'] ?? null,
            'start_url_fetched_at' => self::utc($row['start_url_fetched_at'] ?? null),
            'last_error' => $row['last_error'] ?? null,
            'updated_at' => self::utc($row['updated_at'] ?? time()),
        ];
    }

    public static function find(int $appointmentId): ?array
    {
        global $wpdb;
        $t = self::table();
        $db = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE appointment_id = %d", $appointmentId));
        return $db ? self::toCore($db) : null;
    }

    public static function findByZoomId(string $zoomId): ?array
    {
        global $wpdb;
        $t = self::table();
        $db = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE zoom_id = %s ORDER BY id DESC LIMIT 1", $zoomId));
        return $db ? self::toCore($db) : null;
    }

    /** @return int[] appointments with a mapping for this patient */
    public static function appointmentsOfPatient(int $patientId): array
    {
        global $wpdb;
        $t = self::table();
        return array_map('intval', $wpdb->get_col($wpdb->prepare("SELECT appointment_id FROM $t WHERE patient_id = %d", $patientId)));
    }

    /** Inserts a pending reservation; false when the appointment already has a row. */
    public static function insertPending(array $row): bool
    {
        global $wpdb;
        $data = self::toDb($row);
        $data['created_at'] = $data['updated_at'];
        $suppress = $wpdb->suppress_errors(true);
        $ok = $wpdb->insert(self::table(), $data);
        $wpdb->suppress_errors($suppress);
        return $ok === 1;
    }

    public static function save(array $row): void
    {
        global $wpdb;
        $data = self::toDb($row);
        unset($data['appointment_id']);
        $wpdb->update(self::table(), $data, ['appointment_id' => $row['appointment_id']]);
    }

    public static function delete(int $appointmentId): bool
    {
        global $wpdb;
        return (bool) $wpdb->delete(self::table(), ['appointment_id' => $appointmentId]);
    }
}
