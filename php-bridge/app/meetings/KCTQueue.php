<?php

namespace KCTApp\meetings;

/**
 * One queued resume per appointment, at the time the core decided. Action Scheduler when it
 * is loaded (KiviCare and WooCommerce bundle it: a unique action in the `kct-zoom` group),
 * WP-Cron otherwise. Both keep their queue in the database, so any web server runs it.
 */
final class KCTQueue
{
    public const HOOK = 'kct_zoom_step';
    public const GROUP = 'kct-zoom';
    /** The safety net: rows whose owed work is due, whatever became of their queued resume. */
    public const SWEEP_HOOK = 'kct_zoom_sweep';
    public const SWEEP_EVERY = 300;

    public static function register(): void
    {
        add_filter('cron_schedules', static function ($schedules) {
            $schedules['kct_zoom_sweep'] = ['interval' => self::SWEEP_EVERY, 'display' => __('Every five minutes (Zoom meetings)', 'kivicare-telemed-zoom')];
            return $schedules;
        });
        add_action(self::HOOK, [KCTMeetingLoop::class, 'resume'], 10, 1);
        add_action(self::SWEEP_HOOK, [KCTMeetingLoop::class, 'sweep'], 10, 0);
        add_action('init', static function () {
            if (!wp_next_scheduled(self::SWEEP_HOOK)) {
                wp_schedule_event(time() + self::SWEEP_EVERY, 'kct_zoom_sweep', self::SWEEP_HOOK);
            }
        });
    }

    /** Whether Action Scheduler runs the queue (else WP-Cron). */
    public static function actionScheduler(): bool
    {
        return function_exists('as_schedule_single_action') && function_exists('as_unschedule_all_actions');
    }

    /** Queues the appointment's resume at `$at`, replacing any queued one. */
    public static function at(int $appointmentId, int $at): void
    {
        $args = [$appointmentId];
        $at = max($at, time() + 1);
        if (self::actionScheduler()) {
            as_unschedule_all_actions(self::HOOK, $args, self::GROUP);
            as_schedule_single_action($at, self::HOOK, $args, self::GROUP, true);
            return;
        }
        wp_clear_scheduled_hook(self::HOOK, $args);
        wp_schedule_single_event($at, self::HOOK, $args);
    }

    /** Drops the appointment's queued resume (nothing is owed any more). */
    public static function clear(int $appointmentId): void
    {
        $args = [$appointmentId];
        if (self::actionScheduler()) {
            as_unschedule_all_actions(self::HOOK, $args, self::GROUP);
            return;
        }
        wp_clear_scheduled_hook(self::HOOK, $args);
    }

    /** @return int|null when the appointment's resume runs */
    public static function next(int $appointmentId): ?int
    {
        $args = [$appointmentId];
        if (self::actionScheduler() && function_exists('as_next_scheduled_action')) {
            $t = as_next_scheduled_action(self::HOOK, $args, self::GROUP);
            return is_int($t) ? $t : null;
        }
        $t = wp_next_scheduled(self::HOOK, $args);
        return $t === false ? null : (int) $t;
    }
}
