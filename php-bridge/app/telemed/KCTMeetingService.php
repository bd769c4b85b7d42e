<?php
namespace KCTApp\telemed;

use KCTApp\auth\KCTZoomAuth;
use KCTApp\models\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTZoomApi;

/**
 * An appointment's Zoom meeting through its life. For each intent the core plans the next
 * step from the mapping row (mapping.plan); this class performs it and asks again, so one
 * appointment never gets two meetings: the row is reserved (pending) before Zoom is called,
 * a concurrent worker loses the unique insert, and an interrupted create is found again by
 * its correlation reference instead of being repeated.
 */
final class KCTMeetingService
{
    const RETRY_HOOK = 'kct_zoom_retry';

    /** @var array<string, array> meetings created during this request: zoom id => row */
    private static $createdThisRequest = [];

    /** @return array|\WP_Error the mapping row */
    public static function ensure(array $facts)
    {
        return self::apply('ensure', $facts);
    }

    public static function regenerate(array $facts)
    {
        return self::apply('regenerate', $facts);
    }

    public static function reschedule(array $facts)
    {
        return self::apply('reschedule', $facts);
    }

    public static function cancel(int $appointmentId)
    {
        return self::apply('cancel', ['appointment_id' => $appointmentId]);
    }

    public static function delete(int $appointmentId)
    {
        return self::apply('delete', ['appointment_id' => $appointmentId]);
    }

    private static function core(callable $fn)
    {
        return KCTCoreAccess::run($fn);
    }

    private static function doctorOf(array $facts, ?array $row): int
    {
        return (int) ($facts['doctor_id'] ?? 0) ?: (int) ($row['doctor_id'] ?? 0);
    }

    /** @return array|\WP_Error|null */
    private static function apply(string $intent, array $facts)
    {
        $id = (int) $facts['appointment_id'];
        for ($step = 0; $step < 6; $step++) {
            $row = KCTMappingRepository::find($id);
            $plan = self::core(static function ($core) use ($intent, $row) {
                $in = ['intent' => $intent, 'now' => time()];
                if ($row !== null) {
                    $in['row'] = $row;
                }
                return $core->mappingPlan($in);
            });
            if (is_wp_error($plan)) {
                return $plan;
            }
            switch ($plan['action']) {
                case 'nothing':
                case 'keep':
                    return $row;
                case 'wait':
                    self::schedule($plan['until'], $intent, $facts);
                    return new \WP_Error('kct_pending', __('Another request is creating this meeting.', 'kivicare-telemed-zoom'), ['status' => 409]);
                case 'reserve':
                case 'rereserve':
                    $new = self::reserve($facts, $row);
                    if (is_wp_error($new)) {
                        return $new;
                    }
                    if ($plan['action'] === 'reserve' && !KCTMappingRepository::insertPending($new)) {
                        continue 2; // another worker reserved first: plan again
                    }
                    if ($plan['action'] === 'rereserve') {
                        KCTMappingRepository::save($new);
                    }
                    return self::create($new, $facts, $intent);
                case 'create':
                    return self::create($row, $facts, $intent);
                case 'recover':
                    $found = self::recover($row);
                    if (is_wp_error($found)) {
                        return $found;
                    }
                    if ($found !== null) {
                        self::activate($row, $found);
                        continue 2;
                    }
                    if ($intent === 'ensure' || $intent === 'regenerate' || $intent === 'reschedule') {
                        return self::create($row, $facts, $intent);
                    }
                    // Nothing reached Zoom: the reservation can simply end.
                    $row['status'] = 'failed';
                    KCTMappingRepository::save($row);
                    continue 2;
                case 'delete_then_create':
                    $gone = self::deleteAtZoom($row, $plan['zoom_id']);
                    if (is_wp_error($gone)) {
                        return $gone;
                    }
                    $row['status'] = 'deleted';
                    $row['zoom_id'] = null;
                    KCTMappingRepository::save($row);
                    continue 2; // the plan now re-reserves and creates
                case 'update':
                    return self::update($row, $facts, $plan['zoom_id']);
                case 'delete_meeting':
                    $gone = self::deleteAtZoom($row, $plan['zoom_id']);
                    if (is_wp_error($gone)) {
                        return $gone;
                    }
                    $row['status'] = $plan['then_status'];
                    $row['start_url'] = null;
                    $row['updated_at'] = time();
                    KCTMappingRepository::save($row);
                    do_action('kct_zoom_meeting_ended_for_appointment', $id, $plan['then_status'], $row);
                    return $row;
                case 'mark_status':
                    $row['status'] = $plan['status'];
                    $row['updated_at'] = time();
                    KCTMappingRepository::save($row);
                    return $row;
                default:
                    return new \WP_Error('kct_unexpected_plan', 'unexpected plan ' . $plan['action']);
            }
        }
        return new \WP_Error('kct_plan_loop', __('The meeting could not be settled; it will be retried.', 'kivicare-telemed-zoom'));
    }

    private static function reserve(array $facts, ?array $row)
    {
        $doctor = self::doctorOf($facts, $row);
        $ctx = KCTZoomAuth::context($doctor);
        if (is_wp_error($ctx)) {
            return $ctx;
        }
        return self::core(static function ($core) use ($facts, $doctor, $ctx, $row) {
            $in = [
                'appointment_id' => (int) $facts['appointment_id'],
                'doctor_id' => $doctor,
                'host' => $ctx['host'],
                'now' => time(),
                'random' => KCTCoreAccess::random(10),
            ];
            $patient = $facts['patient_id'] ?? ($row['patient_id'] ?? null);
            if ($patient !== null) {
                $in['patient_id'] = (int) $patient;
            }
            return $core->mappingReserve($in);
        });
    }

    private static function appointmentInput(array $facts, array $row): array
    {
        $a = [
            'id' => (int) $row['appointment_id'],
            'doctor_id' => (int) $row['doctor_id'],
            'start_unix' => (int) $facts['start_unix'],
            'duration_min' => (int) $facts['duration_min'],
            'timezone' => (string) $facts['timezone'],
            'correlation_ref' => $row['correlation_ref'],
        ];
        if (!empty($row['patient_id'])) {
            $a['patient_id'] = (int) $row['patient_id'];
        }
        return $a;
    }

    private static function withPolicy(array $in): array
    {
        $policy = KCTSettings::raw()['policy'];
        /**
         * Filters the clinic's meeting policy for one appointment (waiting room, passcode
         * rules, recording...). Must stay valid for the core's `policy.validate`.
         *
         * @since 4.0.0
         */
        $policy = apply_filters('kct_zoom_meeting_policy', is_array($policy) ? $policy : [], $in['appointment']['id']);
        if ($policy) {
            $in['policy'] = $policy;
        }
        return $in;
    }

    private static function create(array $row, array $facts, string $intent)
    {
        if (!isset($facts['start_unix'])) {
            return new \WP_Error('kct_facts_missing', __('The appointment\'s time is unknown.', 'kivicare-telemed-zoom'), ['status' => 400]);
        }
        $result = KCTZoomApi::call((int) $row['doctor_id'], 'create_meeting', static function ($core, $auth, $host) use ($row, $facts) {
            return $core->meetingCreate(self::withPolicy([
                'auth' => $auth,
                'host' => $row['host'] ?: $host,
                'appointment' => self::appointmentInput($facts, $row),
                'random' => KCTCoreAccess::random(32),
            ]));
        });
        if (is_wp_error($result)) {
            $data = $result->get_error_data();
            if ($result->get_error_code() === 'kct_retry_later') {
                // Pending stays pending when the create may have reached Zoom: the retry
                // recovers it by reference first.
                if (empty($data['recover'])) {
                    self::fail($row, $result);
                }
                self::schedule((int) $data['retry_at'], $intent, $facts);
            } else {
                self::fail($row, $result);
            }
            return $result;
        }
        $row = self::activate($row, $result);
        self::watchForRollback($row);
        /**
         * Fires when an appointment's Zoom meeting was created.
         *
         * @since 4.0.0
         * @param int   $appointment_id
         * @param array $row the mapping row (start_url is the host's credential: do not log it)
         */
        do_action('kct_zoom_meeting_created', (int) $row['appointment_id'], $row);
        return $row;
    }

    private static function activate(array $row, array $meeting): array
    {
        $active = self::core(static function ($core) use ($row, $meeting) {
            return $core->mappingActivate(['row' => $row, 'meeting' => $meeting, 'now' => time()]);
        });
        if (is_wp_error($active)) {
            return $row;
        }
        KCTMappingRepository::save($active);
        return $active;
    }

    private static function fail(array $row, \WP_Error $e): void
    {
        $failed = self::core(static function ($core) use ($row, $e) {
            return $core->mappingFail(['row' => $row, 'code' => $e->get_error_code(), 'message' => $e->get_error_message(), 'now' => time()]);
        });
        if (!is_wp_error($failed)) {
            KCTMappingRepository::save($failed);
        }
    }

    /** @return array|null|\WP_Error the meeting a lost create left behind */
    private static function recover(array $row)
    {
        $list = KCTZoomApi::call((int) $row['doctor_id'], 'list_meetings', static function ($core, $auth, $host) use ($row) {
            return $core->meetingList(['auth' => $auth, 'host' => $row['host'] ?: $host]);
        });
        if (is_wp_error($list)) {
            return $list;
        }
        if (empty($list['meetings'])) {
            return null;
        }
        $found = self::core(static function ($core) use ($row, $list) {
            return $core->mappingRecover(['correlation_ref' => $row['correlation_ref'], 'meetings' => $list['meetings']]);
        });
        return is_wp_error($found) ? $found : $found['meeting'];
    }

    /** Deletes at Zoom; a meeting already gone counts as deleted. */
    private static function deleteAtZoom(array $row, string $zoomId)
    {
        $r = KCTZoomApi::call((int) $row['doctor_id'], 'delete_meeting', static function ($core, $auth) use ($zoomId) {
            return $core->meetingDelete(['auth' => $auth, 'meeting_id' => $zoomId]);
        });
        if (is_wp_error($r) && $r->get_error_code() !== 'kct_meeting_gone') {
            return $r;
        }
        return true;
    }

    private static function update(array $row, array $facts, string $zoomId)
    {
        if (!isset($facts['start_unix'])) {
            return $row;
        }
        $r = KCTZoomApi::call((int) $row['doctor_id'], 'update_meeting', static function ($core, $auth) use ($zoomId, $facts, $row) {
            return $core->meetingUpdate(self::withPolicy([
                'auth' => $auth,
                'meeting_id' => $zoomId,
                'appointment' => self::appointmentInput($facts, $row),
            ]));
        });
        if (is_wp_error($r)) {
            if ($r->get_error_code() === 'kct_meeting_gone') {
                // Deleted at Zoom behind our back: make a new one at the new time.
                $row['status'] = 'deleted';
                $row['zoom_id'] = null;
                KCTMappingRepository::save($row);
                return self::apply('ensure', $facts);
            }
            if ($r->get_error_code() === 'kct_retry_later') {
                self::schedule((int) $r->get_error_data()['retry_at'], 'reschedule', $facts);
            }
            return $r;
        }
        $row['start_time'] = gmdate('Y-m-d\TH:i:s\Z', (int) $facts['start_unix']);
        $row['duration'] = (int) $facts['duration_min'];
        $row['timezone'] = (string) $facts['timezone'];
        $row['updated_at'] = time();
        KCTMappingRepository::save($row);
        return $row;
    }

    /**
     * The host's start link, fresh: fetched from Zoom when the stored one is older than the
     * core allows. Show it to the host only.
     *
     * @return string|\WP_Error
     */
    public static function startLink(int $appointmentId)
    {
        $row = KCTMappingRepository::find($appointmentId);
        if ($row === null) {
            return new \WP_Error('kct_no_meeting', __('This appointment has no Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
        $link = self::core(static function ($core) use ($row) {
            return $core->mappingStartLink(['row' => $row, 'now' => time()]);
        });
        if (is_wp_error($link)) {
            return $link;
        }
        if ($link['action'] === 'fresh') {
            return $link['start_url'];
        }
        if ($link['action'] === 'unavailable') {
            return new \WP_Error('kct_no_meeting', __('This appointment has no live Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
        $meeting = KCTZoomApi::call((int) $row['doctor_id'], 'get_meeting', static function ($core, $auth) use ($link) {
            return $core->meetingGet(['auth' => $auth, 'meeting_id' => $link['zoom_id']]);
        });
        if (is_wp_error($meeting)) {
            return $meeting;
        }
        $row['start_url'] = $meeting['start_url'] ?? null;
        $row['start_url_fetched_at'] = time();
        $row['updated_at'] = time();
        KCTMappingRepository::save($row);
        return (string) $row['start_url'];
    }

    /**
     * KiviCare creates meetings inside its own database transaction (CONTRACT §8.7): when it
     * rolls back, the mapping row goes with it but the meeting stays at Zoom. At the end of
     * the request, every meeting created here whose row is gone is deleted at Zoom.
     */
    private static function watchForRollback(array $row): void
    {
        if (!self::$createdThisRequest) {
            add_action('shutdown', [self::class, 'deleteRolledBack'], 0);
        }
        self::$createdThisRequest[(string) $row['zoom_id']] = $row;
    }

    /** @return string[] the meetings deleted because their booking was rolled back */
    public static function deleteRolledBack(): array
    {
        $deleted = [];
        foreach (self::$createdThisRequest as $zoomId => $row) {
            // PHP makes numeric-string keys integers; Zoom ids stay strings.
            $zoomId = (string) $zoomId;
            if (KCTMappingRepository::findByZoomId($zoomId) !== null) {
                continue;
            }
            if (self::deleteAtZoom($row, $zoomId) === true) {
                $deleted[] = $zoomId;
            }
        }
        self::$createdThisRequest = [];
        return $deleted;
    }

    private static function schedule(int $at, string $intent, array $facts): void
    {
        $args = [$intent, $facts];
        if (!wp_next_scheduled(self::RETRY_HOOK, $args)) {
            wp_schedule_single_event(max($at, time() + 1), self::RETRY_HOOK, $args);
        }
    }

    /** The cron handler: try the intent again. */
    public static function retry(string $intent, array $facts): void
    {
        if (in_array($intent, ['ensure', 'regenerate', 'reschedule', 'cancel', 'delete'], true)) {
            self::apply($intent === 'regenerate' ? 'ensure' : $intent, $facts);
        }
    }
}
