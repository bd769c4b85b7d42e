<?php
namespace KCTApp\meetings;

use KCTApp\auth\KCTZoomAuth;
use KCTApp\models\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTZoomApi;

/**
 * An appointment's meeting, moved on by the core (`lifecycle.step`): this loop reads the row,
 * writes what the core answers (compare-and-swap), performs the one effect it names and
 * hands the result back. No state, retry or backoff is decided here.
 */
final class KCTMeetingLoop
{
    /** Steps before the loop hands the rest to the queue (a step is one Zoom call at most). */
    const MAX_STEPS = 24;
    /** How soon a loop that could not settle, or found no runtime, looks again. */
    const RECHECK = 300;

    /** @var array[] create answers of this request: [effect, outcome] (see settleRolledBack) */
    private static $created = [];

    /**
     * @param string|null $intent ensure | regenerate | reschedule | cancel | delete; null resumes the row's work
     * @param array       $passed facts KiviCare just passed (KCTAppointmentFacts shape)
     * @param array       $opts   caller_mails (KiviCare mails the links after this call),
     *                            times_from_passed (KiviCare has not written the new times yet)
     * @return array{row: ?array, effect: array}|\WP_Error the row as it ended and the last effect
     */
    public static function run(int $appointmentId, ?string $intent, array $passed = [], array $opts = [])
    {
        $core = KCTCoreAccess::core();
        if (is_wp_error($core)) {
            // Keep the intent: the queue tries again, and administrators see why it waits.
            KCTMappingRepository::recordWithoutCore($appointmentId, $intent ?? 'ensure', $core->get_error_message());
            KCTQueue::at($appointmentId, time() + self::RECHECK);
            return $core;
        }
        $appointment = KCTAppointments::now($appointmentId, $passed, !empty($opts['times_from_passed']));
        $in = [
            'appointment_id' => $appointmentId,
            'appointment' => $appointment,
            'caller_mails' => !empty($opts['caller_mails']),
        ];
        // The appointment's doctor now; without KiviCare's table, the row's.
        $doctor = (int) ($appointment['doctor_id'] ?? (KCTMappingRepository::find($appointmentId)['doctor_id'] ?? 0));
        $host = self::host($doctor);
        if ($host !== null) {
            $in['host'] = $host;
        }
        $policy = self::policy($appointmentId);
        if ($policy) {
            $in['policy'] = $policy;
        }
        $last = null;
        $current = false;
        for ($i = 0; $i < self::MAX_STEPS; $i++) {
            $row = KCTMappingRepository::find($appointmentId, $current);
            $step = KCTCoreAccess::run(static function ($core) use ($in, $row, $intent, $last) {
                return $core->lifecycleStep($in + array_filter([
                    'row' => $row, 'intent' => $intent, 'last' => $last,
                ], static function ($v) {
                    return $v !== null;
                }) + ['now' => time(), 'random' => KCTCoreAccess::random(40)]);
            });
            if (is_wp_error($step)) {
                return $step;
            }
            $write = $step['write'];
            if ($write !== null && !($row === null ? KCTMappingRepository::insert($write) : KCTMappingRepository::compareAndSwap($write, $row['version']))) {
                $current = true; // another worker wrote first: read again, ask again
                continue;
            }
            $intent = null;
            $effect = $step['effect'];
            switch ($effect['do']) {
                case 'call':
                    $last = KCTZoomApi::perform($effect);
                    self::remember($last);
                    continue 2;
                case 'schedule':
                    KCTQueue::at($appointmentId, (int) $effect['at']);
                    break;
                case 'announce':
                    KCTQueue::clear($appointmentId);
                    KCTLinkMail::send($appointmentId, $write ?? (array) $row);
                    break;
                default: // finish
                    KCTQueue::clear($appointmentId);
            }
            $final = $write ?? $row;
            /**
             * Fires when a lifecycle loop stops, with the row as it ended.
             *
             * @since 4.1.0
             * @param int        $appointment_id
             * @param array      $effect the core's last effect (schedule, announce or finish)
             * @param array|null $row    the mapping row (start_url is the host's credential: do not log it)
             */
            do_action('kct_zoom_lifecycle_step', $appointmentId, $effect, $final);
            return ['row' => $final, 'effect' => $effect];
        }
        KCTQueue::at($appointmentId, time() + self::RECHECK);
        return new \WP_Error('kct_not_settled', __('The meeting could not be settled now; it will be retried.', 'kivicare-telemed-zoom'), ['status' => 409]);
    }

    /** The queue's handler: resume whatever the row still owes. */
    public static function resume($appointmentId): void
    {
        self::run((int) $appointmentId, null);
    }

    /** @return string|null the doctor's Zoom host, or null when the doctor has no usable connection */
    private static function host(int $doctorId): ?string
    {
        if ($doctorId <= 0) {
            return null;
        }
        $ctx = KCTZoomAuth::context($doctorId);
        return is_wp_error($ctx) || (string) $ctx['host'] === '' ? null : (string) $ctx['host'];
    }

    private static function policy(int $appointmentId): array
    {
        $policy = KCTSettings::raw()['policy'];
        /**
         * Filters the clinic's meeting policy for one appointment (waiting room, passcode
         * rules, recording...). Must stay valid for the core's `policy.validate`.
         *
         * @since 4.0.0
         */
        $policy = apply_filters('kct_zoom_meeting_policy', is_array($policy) ? $policy : [], $appointmentId);
        return is_array($policy) ? $policy : [];
    }

    /**
     * KiviCare creates meetings inside its own database transaction (CONTRACT §8.7): when it
     * rolls back, the mapping row goes with it but a meeting may stay at Zoom. Every create
     * of this request that made (or may have made) a meeting is remembered; at its end, for
     * each one whose row is gone, the core is asked what is left at Zoom (a meeting to
     * delete, or one to look for by its reference first) and the loop performs it.
     */
    private static function remember(array $last): void
    {
        if (($last['call']['operation'] ?? '') !== 'create_meeting'
            || !in_array($last['outcome']['action'] ?? '', ['done', 'recover_then_retry'], true)) {
            return;
        }
        if (!self::$created) {
            add_action('shutdown', [self::class, 'settleRolledBack'], 0);
        }
        self::$created[] = $last;
    }

    /** @return string[] the meetings deleted because their booking was rolled back */
    public static function settleRolledBack(): array
    {
        $deleted = [];
        foreach (self::$created as $last) {
            $reference = (string) ($last['call']['correlation_ref'] ?? '');
            $zoomId = (string) ($last['outcome']['result']['zoom_id'] ?? '');
            if (($zoomId !== '' && KCTMappingRepository::findByZoomId($zoomId) !== null)
                || ($reference !== '' && KCTMappingRepository::findByReference($reference) !== null)) {
                continue; // the booking committed: its row owns the meeting
            }
            for ($i = 0; $i < self::MAX_STEPS; $i++) {
                $step = KCTCoreAccess::run(static function ($core) use ($last) {
                    return $core->lifecycleStep(['appointment_id' => 0, 'last' => $last, 'now' => time(), 'random' => KCTCoreAccess::random(40)]);
                });
                if (is_wp_error($step) || $step['effect']['do'] !== 'call') {
                    break;
                }
                $last = KCTZoomApi::perform($step['effect']);
                if (($last['outcome']['action'] ?? '') === 'done' && $last['call']['operation'] === 'delete_meeting') {
                    $deleted[] = (string) $last['call']['meeting_id'];
                }
            }
        }
        self::$created = [];
        return $deleted;
    }

    /**
     * Resumes rows whose owed work is due by the row's own record (`next_attempt_at`, an
     * expired claim), whatever happened to their queued resume: the table is the truth, the
     * queue only wakes it up sooner. Runs on a schedule and when the queue drains.
     *
     * @return int rows resumed
     */
    public static function sweep(int $limit = 50): int
    {
        $ids = KCTMappingRepository::owedWorkDue(time(), $limit);
        foreach ($ids as $id) {
            self::run($id, null);
        }
        return count($ids);
    }
}
