<?php
/**
 * TEST-ONLY stand-in for Action Scheduler's public API (the functions KiviCare and
 * WooCommerce load), written from its documentation, no Action Scheduler code: actions kept
 * in an option (so a test's transaction rolls them back), `$unique` refusing a second
 * pending action with the same hook, arguments and group (the answer is 0 then),
 * `as_unschedule_all_actions` cancelling every match, `as_next_scheduled_action` answering
 * the next pending action's time or false. Loaded only in the test's own process.
 */

const KCT_TEST_AS = 'kct_test_as_actions';

function kct_test_as_all(): array
{
    return (array) get_option(KCT_TEST_AS, []);
}

function kct_test_as_match(array $a, string $hook, $args, string $group): bool
{
    return $a['hook'] === $hook && ($args === null || $a['args'] === array_values((array) $args))
        && ($group === '' || $a['group'] === $group);
}

function as_schedule_single_action($timestamp, $hook, $args = [], $group = '', $unique = false, $priority = 10)
{
    $all = kct_test_as_all();
    if ($unique) {
        foreach ($all as $a) {
            if ($a['status'] === 'pending' && kct_test_as_match($a, $hook, $args, $group)) {
                return 0;
            }
        }
    }
    $id = count($all) + 1;
    $all[$id] = ['id' => $id, 'time' => (int) $timestamp, 'hook' => $hook, 'args' => array_values((array) $args),
        'group' => (string) $group, 'status' => 'pending'];
    update_option(KCT_TEST_AS, $all, false);
    return $id;
}

function as_unschedule_all_actions($hook, $args = [], $group = '')
{
    $all = kct_test_as_all();
    foreach ($all as $id => $a) {
        if ($a['status'] === 'pending' && kct_test_as_match($a, (string) $hook, $args === [] && $hook === '' ? null : $args, (string) $group)) {
            $all[$id]['status'] = 'canceled';
        }
    }
    update_option(KCT_TEST_AS, $all, false);
}

function as_next_scheduled_action($hook, $args = null, $group = '')
{
    $next = false;
    foreach (kct_test_as_all() as $a) {
        if ($a['status'] === 'pending' && kct_test_as_match($a, (string) $hook, $args, (string) $group)) {
            $next = $next === false ? $a['time'] : min($next, $a['time']);
        }
    }
    return $next;
}

/** The queue runner, as Action Scheduler's: every pending action due by `$now`, in time order. */
function kct_test_as_run_due(int $now): int
{
    $ran = 0;
    $all = kct_test_as_all();
    uasort($all, static function ($a, $b) {
        return $a['time'] <=> $b['time'];
    });
    foreach ($all as $id => $a) {
        if ($a['status'] !== 'pending' || $a['time'] > $now) {
            continue;
        }
        $current = kct_test_as_all();
        $current[$id]['status'] = 'complete';
        update_option(KCT_TEST_AS, $current, false);
        do_action_ref_array($a['hook'], $a['args']);
        $ran++;
    }
    return $ran;
}
