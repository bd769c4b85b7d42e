<?php

namespace KCTApp\privacy;

use KCTApp\admin\KCTStatusWords;
use KCTApp\auth\KCTTokenStore;
use KCTApp\connection\KCTConnect;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\storage\KCTSite;
use KCTApp\visits\KCTVisits;

/**
 * WordPress's privacy tools (Tools → Export / Erase Personal Data) and its privacy policy
 * guide: what the addon keeps about a patient (their video consultations, their registration
 * at Zoom, their attendance) and about a doctor (their Zoom connection), and what it sends to
 * Zoom. No link, passcode or secret is ever exported.
 */
final class KCTPrivacy
{
    private const ID = 'kivicare-telemed-zoom';
    /** Appointments per page of an export or an erasure (WordPress asks page after page). */
    public const PAGE = 50;

    public static function register(): void
    {
        add_filter('wp_privacy_personal_data_exporters', static function ($exporters) {
            $exporters[self::ID] = ['exporter_friendly_name' => self::name(), 'callback' => [self::class, 'export']];
            return $exporters;
        });
        add_filter('wp_privacy_personal_data_erasers', static function ($erasers) {
            $erasers[self::ID] = ['eraser_friendly_name' => self::name(), 'callback' => [self::class, 'erase']];
            return $erasers;
        });
        add_action('admin_init', [self::class, 'policy']);
    }

    /** Suggests the policy text in WordPress's privacy policy guide (on `admin_init`, as it asks). */
    public static function policy(): void
    {
        if (function_exists('wp_add_privacy_policy_content')) {
            wp_add_privacy_policy_content(self::name(), wp_kses_post(wpautop(self::policyText(), false)));
        }
    }

    private static function name(): string
    {
        return __('KiviCare Telemed – Zoom', 'kivicare-telemed-zoom');
    }

    /** The text suggested for the site's privacy policy: what goes to Zoom, and what is kept. */
    public static function policyText(): string
    {
        return implode("\n\n", [
            __('For each telemedicine appointment, this site asks Zoom (Zoom Video Communications, Inc.) to create a video meeting: Zoom receives the appointment\'s date, time and length, and a topic set by the clinic with a reference number. When the clinic registers patients on their meetings, Zoom also receives the patient\'s name and email address.', 'kivicare-telemed-zoom'),
            __('During the consultation, Zoom tells this site who joined, left or waited, and when (with the email address of participants signed in to Zoom). This site keeps that attendance for each appointment, to check the appointment in and out and to record a no-show.', 'kivicare-telemed-zoom'),
            __('Doctors who connect their Zoom account allow this site to create, change and delete meetings in it. The connection is stored encrypted and is removed when the doctor disconnects or their account is deleted.', 'kivicare-telemed-zoom'),
            __('Zoom\'s own handling of meeting data is described in Zoom\'s privacy statement.', 'kivicare-telemed-zoom'),
        ]);
    }

    /**
     * The exporter: a page of the person's video consultations and their attendance, and
     * (on the first page) a doctor's Zoom connection.
     *
     * @return array{data: array[], done: bool}
     */
    public static function export($email, $page = 1): array
    {
        $user = get_user_by('email', (string) $email);
        if ($user === false) {
            return ['data' => [], 'done' => true];
        }
        $userId = (int) $user->ID;
        $page = max(1, (int) $page);
        $ids = KCTMappingRepository::appointmentsOfPatient($userId);
        $data = [];
        foreach (array_slice($ids, ($page - 1) * self::PAGE, self::PAGE) as $id) {
            $row = KCTMappingRepository::find($id);
            if ($row !== null) {
                $data[] = self::item('consultations', __('Video consultations (Zoom)', 'kivicare-telemed-zoom'), $id, [
                    __('Appointment', 'kivicare-telemed-zoom') => '#' . $id,
                    __('Zoom meeting', 'kivicare-telemed-zoom') => (string) $row['zoom_id'],
                    __('Starts', 'kivicare-telemed-zoom') => KCTStatusWords::appointmentTime($row['start_time'], $row['timezone']),
                    __('Length', 'kivicare-telemed-zoom') => $row['duration'] !== null ? KCTStatusWords::minutes(60 * (int) $row['duration']) : '',
                    __('Meeting', 'kivicare-telemed-zoom') => KCTStatusWords::meeting((string) $row['status']),
                    __('Registered at Zoom with', 'kivicare-telemed-zoom') => (string) $row['registered_email'],
                ]);
            }
            $visit = KCTVisits::find($id);
            if ($visit !== null) {
                $time = static function ($t): string {
                    return $t ? KCTStatusWords::siteTime((int) $t) : '';
                };
                $data[] = self::item('visits', __('Video consultation attendance', 'kivicare-telemed-zoom'), $id, [
                    __('Appointment', 'kivicare-telemed-zoom') => '#' . $id,
                    __('Patient joined', 'kivicare-telemed-zoom') => $time($visit['patient_joined_at'] ?? null),
                    __('Patient left', 'kivicare-telemed-zoom') => $time($visit['patient_left_at'] ?? null),
                    __('Waiting since', 'kivicare-telemed-zoom') => $time($visit['waiting_since'] ?? null),
                    __('Together', 'kivicare-telemed-zoom') => isset($visit['together_seconds']) ? KCTStatusWords::minutes((int) $visit['together_seconds']) : '',
                    __('Outcome', 'kivicare-telemed-zoom') => KCTStatusWords::outcome($visit),
                ]);
            }
        }
        if ($page === 1 && KCTConnect::isDoctor($userId)) {
            $data[] = self::item('connection', __('Zoom connection', 'kivicare-telemed-zoom'), $userId, [
                __('Connection', 'kivicare-telemed-zoom') => KCTStatusWords::connection(KCTTokenStore::connection($userId)),
                __('Zoom user', 'kivicare-telemed-zoom') => (string) get_user_meta($userId, KCTSite::userKey(KCTTokenStore::ZOOM_USER), true),
            ]);
        }
        return ['data' => $data, 'done' => $page * self::PAGE >= count($ids)];
    }

    /**
     * The eraser: a page of the person's video consultations. A consultation that is over
     * (or whose meeting is gone) loses the patient's registration at Zoom and its attendance
     * record; one still to come keeps the registration its link depends on. A doctor's Zoom
     * connection is kept: it goes when they disconnect or their account is deleted.
     *
     * @return array{items_removed: bool, items_retained: bool, messages: string[], done: bool}
     */
    public static function erase($email, $page = 1): array
    {
        $out = ['items_removed' => false, 'items_retained' => false, 'messages' => [], 'done' => true];
        $user = get_user_by('email', (string) $email);
        if ($user === false) {
            return $out;
        }
        $userId = (int) $user->ID;
        $page = max(1, (int) $page);
        $ids = KCTMappingRepository::appointmentsOfPatient($userId);
        $now = time();
        foreach (array_slice($ids, ($page - 1) * self::PAGE, self::PAGE) as $id) {
            $row = KCTMappingRepository::find($id);
            if ($row !== null && self::stillToCome($row, $now)) {
                $out['items_retained'] = true;
                continue;
            }
            $out['items_removed'] = KCTMappingRepository::erasePatientRegistration($id) || $out['items_removed'];
            $out['items_removed'] = KCTVisits::delete($id) || $out['items_removed'];
        }
        if ($out['items_retained']) {
            $out['messages'][] = __('Video consultations still to come keep the patient\'s registration at Zoom, which their meeting link needs; erase again once they are over.', 'kivicare-telemed-zoom');
        }
        if ($out['items_removed']) {
            $out['messages'][] = __('Zoom keeps its own records of a meeting\'s registrants and participants; ask Zoom to erase those.', 'kivicare-telemed-zoom');
        }
        if ($page === 1 && KCTConnect::isDoctor($userId)) {
            $out['items_retained'] = true;
            $out['messages'][] = __('A doctor\'s Zoom connection is kept while they use it: it is removed when they disconnect Zoom or their account is deleted.', 'kivicare-telemed-zoom');
        }
        $out['done'] = $page * self::PAGE >= count($ids);
        return $out;
    }

    /** Work owed on the row, or a live meeting that has not ended by the appointment's time. */
    private static function stillToCome(array $row, int $now): bool
    {
        if ($row['intent'] !== null) {
            return true;
        }
        if (!KCTMappingRepository::isLive($row)) {
            return false;
        }
        $start = $row['start_time'] !== null ? strtotime((string) $row['start_time']) : false;
        return $start === false || $start + 60 * (int) ($row['duration'] ?? 0) > $now;
    }

    /** @param array<string, string> $fields name => value; empty values are left out */
    private static function item(string $group, string $label, int $id, array $fields): array
    {
        $data = [];
        foreach ($fields as $name => $value) {
            if ($value !== '') {
                $data[] = ['name' => $name, 'value' => $value];
            }
        }
        return ['group_id' => 'kct-zoom-' . $group, 'group_label' => $label, 'item_id' => 'kct-zoom-' . $group . '-' . $id, 'data' => $data];
    }
}
