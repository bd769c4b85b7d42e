<?php

namespace KCTApp\visits;

use KCTApp\connection\KCTDoctorSettings;
use KCTApp\auth\KCTTokenStore;
use KCTApp\database\migrations\KCTMigration0005Visits;
use KCTApp\meetings\KCTAppointments;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\storage\KCTRowWrite;
use KCTApp\storage\KCTSite;
use KCTApp\zoom\KCTCoreAccess;

/**
 * The visit beside each mapping row: for every verified meeting or participant event, the
 * core (`visit.apply`) answers the next record and what to do; this class writes the record
 * (a compare-and-swap on its version) and performs what the core named.
 */
final class KCTVisits
{
    /** The doctor's choice: a mail when their patient is waiting (besides the notice). */
    public const WAITING_MAIL = 'kct_zoom_waiting_mail';

    /** The varchar columns and their lengths (KCTMigration0005Visits), checked before a write. */
    private const VARCHAR = ['zoom_id' => 32, 'patient_known_by' => 16, 'outcome' => 16];
    private const INTS = ['started_at', 'ended_at', 'patient_joined_at', 'patient_left_at', 'patient_seen_at',
        'doctor_joined_at', 'doctor_left_at', 'doctor_seen_at', 'waiting_since', 'together_seconds'];

    public static function table(): string
    {
        return KCTMigration0005Visits::table();
    }

    /** The record as the core reads it (null fields left out), or null. */
    public static function find(int $appointmentId): ?array
    {
        global $wpdb;
        $t = self::table();
        $db = $wpdb->get_row($wpdb->prepare("SELECT * FROM $t WHERE appointment_id = %d", $appointmentId), ARRAY_A);
        return $db ? self::toCore($db) : null;
    }

    /** Deletes an appointment's visit record (WordPress's privacy eraser); whether there was one. */
    public static function delete(int $appointmentId): bool
    {
        global $wpdb;
        return (bool) $wpdb->delete(self::table(), ['appointment_id' => $appointmentId]);
    }

    private static function toCore(array $db): array
    {
        $v = ['appointment_id' => (int) $db['appointment_id'], 'zoom_id' => (string) $db['zoom_id'],
            'patient_in' => (bool) $db['patient_in'], 'doctor_in' => (bool) $db['doctor_in'], 'version' => (int) $db['version']];
        foreach (self::INTS as $k) {
            if ($db[$k] !== null) {
                $v[$k] = (int) $db[$k];
            }
        }
        foreach (['patient_known_by', 'outcome'] as $k) {
            if ($db[$k] !== null) {
                $v[$k] = (string) $db[$k];
            }
        }
        return $v;
    }

    private static function toDb(array $v): array
    {
        $db = ['appointment_id' => (int) $v['appointment_id'], 'zoom_id' => (string) $v['zoom_id'],
            'patient_in' => empty($v['patient_in']) ? 0 : 1, 'doctor_in' => empty($v['doctor_in']) ? 0 : 1,
            'version' => (int) $v['version'], 'updated_at' => gmdate('Y-m-d H:i:s')];
        foreach (self::INTS as $k) {
            $db[$k] = isset($v[$k]) ? (int) $v[$k] : null;
        }
        foreach (['patient_known_by', 'outcome'] as $k) {
            $db[$k] = isset($v[$k]) ? (string) $v[$k] : null;
        }
        return $db;
    }

    /** Writes `$next` if the stored record is still at `$version` (0: none yet). */
    private static function write(array $next, int $version): bool
    {
        $db = self::toDb($next);
        if ($version === 0 && self::find((int) $next['appointment_id']) === null) {
            return KCTRowWrite::insert(self::table(), $db, self::VARCHAR, true) === 1;
        }
        // Prepared, as the insert: wpdb's update would ask for the table's columns in every
        // webhook request that moves a visit.
        return KCTRowWrite::updateAtVersion(self::table(), $db, self::VARCHAR, 'appointment_id', (int) $next['appointment_id'], $version) === 1;
    }

    /**
     * A verified webhook action about a meeting (meeting_started, meeting_ended,
     * participant): the visit of the appointment that meeting belongs to.
     *
     * @return bool false when it could not be applied (Zoom should deliver it again)
     */
    public static function apply(array $action): bool
    {
        $row = KCTMappingRepository::findByZoomId((string) $action['meeting_id']);
        if ($row === null || empty($row['appointment_id'])) {
            return true; // not one of ours: another account's meeting, or long gone
        }
        return self::step((int) $row['appointment_id'], $row, $action);
    }

    /** One event through `visit.apply`: the record written, then what it meant performed. */
    private static function step(int $appointmentId, array $row, array $event): bool
    {
        for ($try = 0; $try < 5; $try++) {
            $visit = self::find($appointmentId);
            $step = KCTCoreAccess::run(static function ($core) use ($row, $visit, $event, $appointmentId) {
                return $core->visitApply(self::input($appointmentId, $row, $visit, $event));
            });
            if (is_wp_error($step)) {
                return false;
            }
            if ($step['write'] !== null && !self::write($step['write'], (int) ($visit['version'] ?? 0))) {
                continue; // another delivery wrote first: read again, ask again
            }
            $done = true;
            foreach ($step['effects'] as $effect) {
                $refused = self::perform($appointmentId, $row, $step['write'] ?? $visit, $effect);
                if ($refused !== null) {
                    // KiviCare did not take the status: the core records that instead.
                    $done = self::step($appointmentId, $row, ['action' => 'status_refused',
                        'meeting_id' => (string) $row['zoom_id'], 'status' => $refused]) && $done;
                }
            }
            return $done;
        }
        return false;
    }

    private static function input(int $appointmentId, array $row, ?array $visit, array $action): array
    {
        $appointment = KCTAppointments::now($appointmentId);
        $doctor = (int) ($appointment['doctor_id'] ?? ($row['doctor_id'] ?? 0));
        $patient = (int) ($appointment['patient_id'] ?? ($row['patient_id'] ?? 0));
        $in = [
            'appointment_id' => $appointmentId,
            'zoom_id' => (string) $row['zoom_id'],
            'host_ids' => self::hostIds($doctor, $row),
            'check_in' => (bool) KCTSettings::raw()['check_in_from_zoom'],
            'event' => $action,
            'now' => time(),
        ];
        if ($visit !== null) {
            $in['visit'] = $visit;
        }
        if (!empty($row['registrant_id'])) {
            $in['registrant_id'] = (string) $row['registrant_id'];
        }
        $who = KCTAppointments::patient($patient);
        if ($who !== null) {
            $in['patient_email'] = $who['email'];
        }
        if (isset($appointment['status'])) {
            $in['appointment_status'] = (int) $appointment['status'];
        }
        return $in;
    }

    /** Every id the doctor's Zoom host goes by: the host the meeting was made for, their Zoom user id, emails. */
    private static function hostIds(int $doctor, array $row): array
    {
        $ids = [];
        if (!empty($row['host']) && $row['host'] !== \KCTApp\auth\KCTZoomAuth::OAUTH_HOST) {
            $ids[] = (string) $row['host'];
        }
        if ($doctor > 0) {
            $zoomUser = (string) get_user_meta($doctor, KCTSite::userKey(KCTTokenStore::ZOOM_USER), true);
            if ($zoomUser === '' && get_user_meta($doctor, KCTTokenStore::CONNECTED_FLAG, true) === 'on') {
                // Connected by OAuth, but Zoom could not say who they are then: unknown, the
                // doctor joining would pass for the patient. (The flag is in the user meta
                // already loaded; no token is read for the many doctors who have no grant.)
                $zoomUser = (string) \KCTApp\connection\KCTConnect::learnZoomUser($doctor);
            }
            $ids[] = $zoomUser;
            $ids[] = KCTDoctorSettings::clinicAppUser($doctor);
            $ids[] = KCTDoctorSettings::ownAppUser($doctor);
        }
        return array_values(array_unique(array_filter($ids, 'strlen')));
    }

    /** @return int|null the KiviCare status the effect asked for and KiviCare refused */
    private static function perform(int $appointmentId, array $row, ?array $visit, array $effect): ?int
    {
        $doctor = (int) ($row['doctor_id'] ?? 0);
        $refused = null;
        switch ($effect['do']) {
            case 'check_in':
            case 'check_out':
                // The status is the core's (KiviCare's checked in or out): set and reported back as given.
                $status = (int) $effect['status'];
                if (!KCTKiviCareStatus::set($appointmentId, $status, $doctor)) {
                    $refused = $status;
                }
                break;
            case 'patient_waiting':
                if ($doctor > 0 && get_user_meta($doctor, KCTSite::userKey(self::WAITING_MAIL), true) === '1') {
                    KCTWaitingNotice::mail($doctor, $appointmentId, (int) $effect['since']);
                }
                break;
        }
        if ($refused !== null) {
            return $refused; // not done: nothing to announce
        }
        /**
         * Fires for each thing a visit event meant: check_in, check_out (once KiviCare took
         * it), patient_waiting, wait_over, no_show.
         *
         * @since 4.1.0
         * @param int        $appointment_id
         * @param array      $effect the core's effect (`do`, and `since` for patient_waiting)
         * @param array|null $visit  the visit record
         */
        do_action('kct_zoom_visit', $appointmentId, $effect, $visit);
        return null;
    }

    /** @return array[] the doctor's patients waiting now, oldest first */
    public static function waitingFor(int $doctorId): array
    {
        global $wpdb;
        $v = self::table();
        $m = KCTMappingRepository::table();
        return (array) $wpdb->get_results($wpdb->prepare(
            "SELECT v.appointment_id, v.waiting_since FROM $v v JOIN $m m ON m.appointment_id = v.appointment_id
             WHERE m.doctor_id = %d AND v.waiting_since IS NOT NULL AND v.ended_at IS NULL AND v.zoom_id = m.zoom_id
             ORDER BY v.waiting_since",
            $doctorId
        ), ARRAY_A);
    }

    /**
     * Recent visits, newest first, for the status screen and the doctor's page.
     *
     * @param array{doctor_id?: int, outcome?: string} $filter
     */
    public static function recent(array $filter = [], int $limit = 50): array
    {
        global $wpdb;
        $v = self::table();
        $m = KCTMappingRepository::table();
        $where = ['1=1'];
        $args = [];
        if (!empty($filter['doctor_id'])) {
            $where[] = 'm.doctor_id = %d';
            $args[] = (int) $filter['doctor_id'];
        }
        if (!empty($filter['outcome'])) {
            $where[] = 'v.outcome = %s';
            $args[] = (string) $filter['outcome'];
        }
        $args[] = $limit;
        $rows = (array) $wpdb->get_results($wpdb->prepare(
            "SELECT v.*, m.doctor_id, m.patient_id FROM $v v LEFT JOIN $m m ON m.appointment_id = v.appointment_id
             WHERE " . implode(' AND ', $where) . ' ORDER BY v.updated_at DESC LIMIT %d',
            $args
        ), ARRAY_A);
        return array_map(static function ($db) {
            return self::toCore($db) + ['doctor_id' => (int) $db['doctor_id'], 'patient_id' => (int) $db['patient_id']];
        }, $rows);
    }
}
