<?php
namespace KCTApp\meetings;

/**
 * One queued resume per appointment, at the time the core decided. Action Scheduler when it
 * is loaded (KiviCare and WooCommerce bundle it: a unique action in the `kct-zoom` group),
 * WP-Cron otherwise. Both keep their queue in the database, so any web server runs it.
 */
final class KCTQueue
{
    const HOOK = 'kct_zoom_step';
    const GROUP = 'kct-zoom';

    private static function actionScheduler(): bool
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
