<?php

namespace KCTApp\meetings;

use KCTApp\auth\KCTZoomAuth;
use KCTApp\meetings\KCTMappingRepository;
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
    public const MAX_STEPS = 24;
    /** How soon a loop that could not settle, or found no runtime, looks again. */
    public const RECHECK = 300;

    /** @var array<int, array> the last row this request wrote per appointment (see settleRolledBack) */
    private static $written = [];

    /**
     * @param string|null $intent ensure | regenerate | reschedule | cancel | delete | verify | status_changed; null resumes the row's work
     * @param array       $passed facts KiviCare just passed (KCTAppointmentFacts shape)
     * @param array       $opts   caller_mails (KiviCare mails the links after this call),
     *                            times_from_passed (KiviCare has not written the new times yet)
     * @return array{row: ?array, effect: array, events: string[]}|\WP_Error the row as it
     *         ended, the last effect, and what the loop's writes meant (the core's events)
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
        $base = ['appointment_id' => $appointmentId, 'caller_mails' => !empty($opts['caller_mails'])];
        $policy = self::policy($appointmentId);
        if ($policy) {
            $base['policy'] = $policy;
        }
        $last = null;
        $current = false;
        $events = [];
        $doctors = [];
        for ($i = 0; $i < self::MAX_STEPS; $i++) {
            $row = KCTMappingRepository::find($appointmentId, $current);
            [$in, $d] = self::facts($appointmentId, $row, $passed, $opts, $doctors);
            $in += $base;
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
            if (!empty($step['forget']) && $row !== null) {
                if (!KCTMappingRepository::forgetAtVersion($appointmentId, (int) $row['version'])) {
                    $current = true; // another worker wrote first: read again, ask again
                    continue;
                }
                $row = null;
            }
            if ($write !== null) {
                if (!($row === null ? KCTMappingRepository::insert($write) : KCTMappingRepository::compareAndSwap($write, $row['version']))) {
                    $current = true; // another worker wrote first: read again, ask again
                    continue;
                }
                self::remember($write);
                self::announceEvents($appointmentId, $step['events'] ?? [], $write);
                $events = array_merge($events, $step['events'] ?? []);
            }
            $intent = null;
            $effect = $step['effect'];
            switch ($effect['do']) {
                case 'call':
                    $renewed = false;
                    $last = KCTZoomApi::perform($effect, $d['auth']['token']['access_token'] ?? null, $renewed);
                    if ($renewed) {
                        unset($doctors[(int) $effect['doctor_id']]); // the next step gets the new token
                    }
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
            return ['row' => $final, 'effect' => $effect, 'events' => $events];
        }
        KCTQueue::at($appointmentId, time() + self::RECHECK);
        return new \WP_Error('kct_not_settled', __('The meeting could not be settled now; it will be retried.', 'kivicare-telemed-zoom'), ['status' => 409]);
    }

    /**
     * What the next step is asked with, read now: the appointment as KiviCare has it (read
     * again at every step: a Zoom call may have taken seconds, and another request may have
     * moved, reassigned or deleted it meanwhile), its doctor's host and stored token, and the
     * patient.
     *
     * @return array{0: array, 1: array{host: ?string, auth: ?array}} the input, the doctor
     */
    private static function facts(int $appointmentId, ?array $row, array $passed, array $opts, array &$doctors): array
    {
        $appointment = KCTAppointments::now($appointmentId, $passed, !empty($opts['times_from_passed']));
        $in = ['appointment' => $appointment];
        // The appointment's doctor now; without KiviCare's table, the row's.
        $doctor = (int) ($appointment['doctor_id'] ?? ($row['doctor_id'] ?? 0));
        $d = $doctors[$doctor] ?? ($doctors[$doctor] = self::doctor($doctor));
        $patient = KCTAppointments::patient((int) ($appointment['patient_id'] ?? ($row['patient_id'] ?? 0)));
        return [$in + array_filter(['host' => $d['host'], 'auth' => $d['auth'], 'patient' => $patient], static function ($v) {
            return $v !== null;
        }), $d];
    }

    /** The hooks for what a landed write means (the core names it). */
    private static function announceEvents(int $appointmentId, array $events, array $row): void
    {
        foreach ($events as $event) {
            if ($event === 'meeting_created') {
                /**
                 * Fires when an appointment's row holds a new Zoom meeting (created, or found
                 * again after a lost answer).
                 *
                 * @since 4.0.0
                 * @param int   $appointment_id
                 * @param array $row the mapping row (start_url is the host's credential: do not log it)
                 */
                do_action('kct_zoom_meeting_created', $appointmentId, $row);
            } elseif ($event === 'meeting_moved') {
                /**
                 * Fires when Zoom took new times for an appointment's meeting.
                 *
                 * @since 4.1.0
                 * @param int   $appointment_id
                 * @param array $row
                 */
                do_action('kct_zoom_meeting_moved', $appointmentId, $row);
            } elseif ($event === 'meeting_ended') {
                /**
                 * Fires when a live meeting's appointment was cancelled or deleted (its links
                 * are gone; the meeting is deleted at Zoom, retried until Zoom confirms).
                 *
                 * @since 4.0.0
                 * @param int    $appointment_id
                 * @param string $status the row's new status
                 * @param array  $row
                 */
                do_action('kct_zoom_meeting_ended_for_appointment', $appointmentId, $row['status'], $row);
            }
        }
    }

    /** The queue's handler: resume whatever the row still owes. */
    public static function resume($appointmentId): void
    {
        self::run((int) $appointmentId, null);
    }

    /**
     * The doctor's Zoom host, and their stored token for the step to build its call with
     * (null each when the doctor has no usable Zoom connection).
     *
     * @return array{host: ?string, auth: ?array}
     */
    private static function doctor(int $doctorId): array
    {
        $ctx = $doctorId > 0 ? KCTZoomAuth::context($doctorId) : null;
        if ($ctx === null || is_wp_error($ctx)) {
            return ['host' => null, 'auth' => null];
        }
        return [
            'host' => (string) $ctx['host'] === '' ? null : (string) $ctx['host'],
            'auth' => KCTZoomAuth::forStep($ctx),
        ];
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
     * KiviCare writes its booking, and so our first rows, inside its own database
     * transaction (CONTRACT §3 A, §8.7). When it rolls back, our row goes with it, but what
     * it recorded may still be at Zoom: a meeting, or a create whose answer was lost. At the
     * end of the request every row this request wrote and the database no longer has is
     * written again, and the core resumes it: the appointment is gone, so it deletes the
     * meeting, or looks for it by reference once the retry time has come.
     */
    private static function remember(array $row): void
    {
        if (!self::$written) {
            add_action('shutdown', [self::class, 'settleRolledBack'], 0);
        }
        self::$written[(int) $row['appointment_id']] = $row;
    }

    /** @return int[] appointments whose rolled-back rows were restored and resumed */
    public static function settleRolledBack(): array
    {
        $restored = [];
        foreach (self::$written as $id => $row) {
            if (KCTMappingRepository::find($id, true) !== null || !KCTMappingRepository::insert($row)) {
                continue;
            }
            if (!$restored) {
                // The rollback also undid what the queue wrote (WP-Cron's option), but this
                // request's object cache still holds it: read the queue from the database again.
                wp_cache_delete('alloptions', 'options');
                wp_cache_delete('cron', 'options');
            }
            $restored[] = $id;
            self::run($id, null);
        }
        self::$written = [];
        return $restored;
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
