<?php

namespace KCTApp\meetings;

use KCTApp\storage\KCTEncrypted;
use KCTApp\storage\KCTRowWrite;
use KCTApp\database\migrations\KCTMigration0001CreateMappings;

/**
 * Mapping rows in `{prefix}kc_appointment_zoom_mappings`, converted to and from the core's
 * row shape (Unix times, decrypted start link). The start link is stored encrypted.
 *
 * Every write after the first insert is a compare-and-swap on `version`: the writer names
 * the version it read, and loses (false) when another worker wrote in between; it then
 * re-reads and asks the core again. The unique appointment id makes a second insert lose.
 */
final class KCTMappingRepository
{
    public const FIELDS = ['appointment_id', 'doctor_id', 'patient_id', 'host', 'status', 'correlation_ref', 'zoom_id',
        'join_url', 'start_url', 'password', 'start_time', 'duration', 'timezone', 'meeting_state',
        'start_url_fetched_at', 'last_error', 'updated_at'];

    /**
     * Whether a row (as the core shapes it) has a meeting to show: the one reading of the
     * core's states that display code needs, kept here so no screen spells a status.
     */
    public static function isLive(?array $row): bool
    {
        return $row !== null && $row['status'] === 'active' && !empty($row['zoom_id']);
    }

    /** The core gave up on the row's meeting: only an administrator's retry moves it now. */
    public static function hasFailed(?array $row): bool
    {
        return $row !== null && $row['status'] === 'failed';
    }

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
            'start_url' => is_string($u = KCTEncrypted::openText($db['start_url'] ?? null)) ? $u : null,
            'password' => $db['password'],
            'start_time' => $startTime ? str_replace(' ', 'T', $startTime) . 'Z' : null,
            'duration' => isset($db['duration']) ? (int) $db['duration'] : null,
            'timezone' => $db['timezone'],
            'meeting_state' => $db['meeting_state'],
            'start_url_fetched_at' => self::unix($db['start_url_fetched_at'] ?? null),
            'last_error' => $db['last_error'],
            'updated_at' => self::unix($db['updated_at']) ?? time(),
            'version' => (int) ($db['version'] ?? 0),
            'intent' => ($db['intent'] ?? '') !== '' ? $db['intent'] : null,
            'attempt' => (int) ($db['attempt'] ?? 0),
            'next_attempt_at' => self::unix($db['next_attempt_at'] ?? null),
            'work_since' => self::unix($db['work_since'] ?? null),
            'unconfirmed' => !empty($db['unconfirmed']),
            'claimed_until' => self::unix($db['claimed_until'] ?? null),
            'needs_announce' => !empty($db['needs_announce']),
            'last_event_at' => isset($db['last_event_at']) ? (int) $db['last_event_at'] : null,
            'registrant_id' => $db['registrant_id'] ?? null,
            'patient_join_url' => $db['patient_join_url'] ?? null,
            'registered_email' => $db['registered_email'] ?? null,
        ];
    }

    /** The patient's link: their own when they were registered, else the meeting's. */
    public static function patientJoinUrl(?array $row): ?string
    {
        if ($row === null) {
            return null;
        }
        return !empty($row['patient_join_url']) ? (string) $row['patient_join_url'] : ($row['join_url'] ?? null);
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
            'start_url' => !empty($row['start_url']) ? KCTEncrypted::sealText($row['start_url']) : null,
            'password' => $row['password'] ?? null,
            'start_time' => $startTime ? gmdate('Y-m-d H:i:s', $startTime) : null,
            'duration' => $row['duration'] ?? null,
            'timezone' => $row['timezone'] ?? null,
            'meeting_state' => $row['meeting_state'] ?? null,
            'start_url_fetched_at' => self::utc($row['start_url_fetched_at'] ?? null),
            'last_error' => $row['last_error'] ?? null,
            'updated_at' => self::utc($row['updated_at'] ?? time()),
            'intent' => $row['intent'] ?? null,
            'attempt' => (int) ($row['attempt'] ?? 0),
            'next_attempt_at' => self::utc($row['next_attempt_at'] ?? null),
            'work_since' => self::utc($row['work_since'] ?? null),
            'unconfirmed' => empty($row['unconfirmed']) ? 0 : 1,
            'claimed_until' => self::utc($row['claimed_until'] ?? null),
            'needs_announce' => empty($row['needs_announce']) ? 0 : 1,
            'last_event_at' => isset($row['last_event_at']) ? (int) $row['last_event_at'] : null,
            'registrant_id' => $row['registrant_id'] ?? null,
            'patient_join_url' => $row['patient_join_url'] ?? null,
            'registered_email' => $row['registered_email'] ?? null,
        ];
    }

    /**
     * The row as stored. `$current` reads the latest committed version even inside a
     * transaction whose snapshot is older (after a lost compare-and-swap).
     */
    public static function find(int $appointmentId, bool $current = false): ?array
    {
        global $wpdb;
        $t = self::table();
        $lock = $current ? ' LOCK IN SHARE MODE' : '';
        $db = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE appointment_id = %d$lock", $appointmentId));
        return $db ? self::toCore($db) : null;
    }

    public static function findByZoomId(string $zoomId): ?array
    {
        global $wpdb;
        $t = self::table();
        $db = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE zoom_id = %s ORDER BY id DESC LIMIT 1", $zoomId));
        return $db ? self::toCore($db) : null;
    }

    /** @return int[] appointments with a live meeting that starts after `$now` (or has no time) */
    public static function liveUpcoming(int $now): array
    {
        global $wpdb;
        $t = self::table();
        return array_map('intval', $wpdb->get_col($wpdb->prepare(
            "SELECT appointment_id FROM $t WHERE status = %s AND zoom_id IS NOT NULL AND intent IS NULL AND (start_time IS NULL OR start_time > %s)",
            'active',
            self::utc($now)
        )));
    }

    /** How many upcoming live meetings a doctor hosts through their own OAuth connection. */
    public static function countConnectedUpcoming(int $doctorId, int $now): int
    {
        global $wpdb;
        $t = self::table();
        return (int) $wpdb->get_var($wpdb->prepare(
            "SELECT COUNT(*) FROM $t WHERE doctor_id = %d AND host = %s AND status = %s AND zoom_id IS NOT NULL AND (start_time IS NULL OR start_time > %s)",
            $doctorId,
            \KCTApp\auth\KCTZoomAuth::OAUTH_HOST,
            'active',
            self::utc($now)
        ));
    }

    /**
     * @param int|null $doctorId  only this doctor's
     * @param int|null $patientId only this patient's
     * @return array[] rows of appointments not yet over (or undated), soonest first
     */
    public static function upcoming(int $now, int $limit, ?int $doctorId = null, ?int $patientId = null): array
    {
        global $wpdb;
        $t = self::table();
        // Until they end: a meeting under way is the one an administrator looks for. (The
        // first bound keeps the index: no meeting is longer than the core's 24 hours.)
        $rows = $wpdb->get_results($wpdb->prepare(
            "SELECT * FROM $t WHERE (start_time IS NULL OR (start_time > %s AND DATE_ADD(start_time, INTERVAL COALESCE(duration, 0) MINUTE) > %s))"
            . ($doctorId === null ? '' : $wpdb->prepare(' AND doctor_id = %d', $doctorId))
            . ($patientId === null ? '' : $wpdb->prepare(' AND patient_id = %d', $patientId))
            . ' ORDER BY start_time IS NULL, start_time LIMIT %d',
            self::utc($now - DAY_IN_SECONDS),
            self::utc($now),
            $limit
        ));
        return array_map([self::class, 'toCore'], (array) $rows);
    }

    /**
     * What the doctor's rows still need their Zoom connection for: work owed to Zoom (or a
     * create not accounted for), and live meetings of appointments still to come.
     *
     * @return array{owed: bool, upcoming: bool}
     */
    public static function needsOfDoctor(int $doctorId, int $now): array
    {
        global $wpdb;
        $t = self::table();
        $r = $wpdb->get_row($wpdb->prepare(
            "SELECT MAX(intent IS NOT NULL OR unconfirmed = 1) AS owed,
                    MAX(status = %s AND zoom_id IS NOT NULL AND start_time > %s) AS upcoming
             FROM $t WHERE doctor_id = %d",
            'active',
            self::utc($now),
            $doctorId
        ), ARRAY_A);
        return ['owed' => !empty($r['owed']), 'upcoming' => !empty($r['upcoming'])];
    }

    /** @return int[] doctors who have mapping rows */
    public static function doctorsWithRows(): array
    {
        global $wpdb;
        $t = self::table();
        return array_map('intval', $wpdb->get_col("SELECT DISTINCT doctor_id FROM $t WHERE doctor_id IS NOT NULL"));
    }

    /** @return string[] every meeting id the table names */
    public static function knownZoomIds(): array
    {
        global $wpdb;
        $t = self::table();
        return array_map('strval', $wpdb->get_col("SELECT zoom_id FROM $t WHERE zoom_id IS NOT NULL AND zoom_id <> ''"));
    }

    /** @return string[] references of rows whose create may still be unaccounted for */
    public static function openReferences(): array
    {
        global $wpdb;
        $t = self::table();
        return array_map('strval', $wpdb->get_col("SELECT correlation_ref FROM $t WHERE unconfirmed = 1 OR intent IS NOT NULL"));
    }

    /** Rows whose owed work is waiting past `$before` (the queue is not running). */
    public static function countOverdue(int $before): int
    {
        global $wpdb;
        $t = self::table();
        return (int) $wpdb->get_var($wpdb->prepare("SELECT COUNT(*) FROM $t WHERE intent IS NOT NULL AND next_attempt_at < %s", self::utc($before)));
    }

    /** Rows that owe Zoom work (queued or under way). */
    public static function countOwed(): int
    {
        global $wpdb;
        $t = self::table();
        return (int) $wpdb->get_var("SELECT COUNT(*) FROM $t WHERE intent IS NOT NULL");
    }

    /** Upcoming (or undated) appointments whose meeting the core gave up on. */
    public static function countFailedUpcoming(int $now): int
    {
        global $wpdb;
        $t = self::table();
        return (int) $wpdb->get_var($wpdb->prepare("SELECT COUNT(*) FROM $t WHERE status = %s AND (start_time IS NULL OR start_time > %s)", 'failed', self::utc($now)));
    }

    /** @return int[] appointments whose row owes work that is due (its time, or an expired claim) */
    public static function owedWorkDue(int $now, int $limit): array
    {
        global $wpdb;
        $t = self::table();
        $at = self::utc($now);
        return array_map('intval', $wpdb->get_col($wpdb->prepare(
            "SELECT appointment_id FROM $t WHERE intent IS NOT NULL AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
             AND (claimed_until IS NULL OR claimed_until <= %s) ORDER BY next_attempt_at LIMIT %d",
            $at,
            $at,
            $limit
        )));
    }

    /** @return int[] appointments with a mapping for this patient */
    public static function appointmentsOfPatient(int $patientId): array
    {
        global $wpdb;
        $t = self::table();
        return array_map('intval', $wpdb->get_col($wpdb->prepare("SELECT appointment_id FROM $t WHERE patient_id = %d", $patientId)));
    }

    /**
     * Erases the patient's registration at Zoom from the row (their email, registrant id and
     * own link), for WordPress's privacy eraser. The version moves, so a loop that read the
     * row before loses its write and reads it again.
     *
     * @return bool whether there was anything to erase
     */
    public static function erasePatientRegistration(int $appointmentId): bool
    {
        global $wpdb;
        $t = self::table();
        return (int) $wpdb->query($wpdb->prepare(
            "UPDATE $t SET registered_email = NULL, registrant_id = NULL, patient_join_url = NULL, version = version + 1, updated_at = %s
             WHERE appointment_id = %d AND (registered_email IS NOT NULL OR registrant_id IS NOT NULL OR patient_join_url IS NOT NULL)",
            self::utc(time()),
            $appointmentId
        )) > 0;
    }

    /** @return array[] the rows whose patient was registered on the meeting with `$email`, as the core shapes them */
    public static function registeredTo(string $email): array
    {
        global $wpdb;
        $t = self::table();
        $rows = (array) $wpdb->get_results($wpdb->prepare(
            "SELECT * FROM $t WHERE registered_email = %s AND patient_join_url IS NOT NULL",
            strtolower($email)
        ));
        return array_map([self::class, 'toCore'], $rows);
    }

    /**
     * @param int $since only appointments starting after this (Unix seconds): a meeting stays
     *                   live after its time, and a busy doctor's past ones would all be read
     * @return array[] the doctor's rows whose meeting is live, as the core shapes them
     */
    public static function liveOfDoctor(int $doctorId, int $since): array
    {
        global $wpdb;
        $t = self::table();
        $rows = (array) $wpdb->get_results($wpdb->prepare(
            "SELECT * FROM $t WHERE doctor_id = %d AND status = %s AND zoom_id IS NOT NULL AND (start_time IS NULL OR start_time > %s)",
            $doctorId,
            'active',
            self::utc($since)
        ));
        return array_map([self::class, 'toCore'], $rows);
    }

    /**
     * The varchar columns (the migrations' schema) and their lengths in characters: a value
     * that does not fit is refused, as wpdb would refuse it (see KCTRowWrite, which writes
     * the row without wpdb's per-request column check).
     */
    private const VARCHAR = ['host' => 191, 'status' => 20, 'correlation_ref' => 64, 'zoom_id' => 64,
        'password' => 64, 'timezone' => 64, 'meeting_state' => 20, 'intent' => 16, 'registrant_id' => 64,
        'registered_email' => 191];

    /** Inserts the first row of an appointment (version 1); false when it already has one. */
    public static function insert(array $row): bool
    {
        global $wpdb;
        $data = self::toDb($row);
        $data['version'] = 1;
        $data['created_at'] = $data['updated_at'];
        $suppress = $wpdb->suppress_errors(true);
        $ok = KCTRowWrite::insert(self::table(), $data, self::VARCHAR);
        $wpdb->suppress_errors($suppress);
        return $ok === 1;
    }

    /** Writes `$row` if the stored version is still `$version`; false when another write won. */
    public static function compareAndSwap(array $row, int $version): bool
    {
        global $wpdb;
        $data = self::toDb($row);
        unset($data['appointment_id']);
        $data['version'] = $version + 1;
        return KCTRowWrite::updateAtVersion(self::table(), $data, self::VARCHAR, 'appointment_id', (int) $row['appointment_id'], $version) === 1;
    }

    /**
     * The one row PHP writes without the core: the intent, recorded while the runtime is
     * unavailable, so the meeting is made once it works. No correlation reference: nothing
     * was sent to Zoom, and the core then creates at once.
     */
    public static function recordWithoutCore(int $appointmentId, string $intent, string $why): void
    {
        global $wpdb;
        $row = self::find($appointmentId);
        $now = time();
        $error = 'runtime_unavailable: ' . substr($why, 0, 400);
        if ($row === null) {
            $suppress = $wpdb->suppress_errors(true);
            // The status is the column's default: PHP names no state of the core's.
            $wpdb->insert(self::table(), ['appointment_id' => $appointmentId, 'correlation_ref' => '',
                'intent' => $intent, 'work_since' => self::utc($now), 'last_error' => $error, 'version' => 1,
                'created_at' => self::utc($now), 'updated_at' => self::utc($now)]);
            $wpdb->suppress_errors($suppress);
            return;
        }
        $wpdb->update(
            self::table(),
            ['intent' => $intent, 'last_error' => $error, 'version' => $row['version'] + 1, 'updated_at' => self::utc($now)],
            ['appointment_id' => $appointmentId, 'version' => $row['version']]
        );
    }

    /**
     * Deletes the row if the stored version is still `$version` (the core's `forget`: a row
     * that never reached Zoom); false when another write won.
     */
    public static function forgetAtVersion(int $appointmentId, int $version): bool
    {
        global $wpdb;
        $t = self::table();
        return $wpdb->query($wpdb->prepare("DELETE FROM $t WHERE appointment_id = %d AND version = %d", $appointmentId, $version)) === 1;
    }

    public static function delete(int $appointmentId): bool
    {
        global $wpdb;
        return (bool) $wpdb->delete(self::table(), ['appointment_id' => $appointmentId]);
    }
}
