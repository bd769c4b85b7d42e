<?php
/**
 * The fault soak (issue: one meeting per appointment, nothing lost). Runs inside the test
 * bed: `scripts/testbed.sh run test php scripts/soak/run.php ROUNDS` (make soak / make test).
 *
 * Each round injects random faults at the fake Zoom (500; 429 with Retry-After as seconds,
 * as a date, absent; the daily cap; latency past the HTTP timeout; a connection dropped
 * after the create; a token expiring now) and runs one to four KiviCare actions at once
 * (book inside a transaction that commits or rolls back, confirm later, reschedule, cancel,
 * delete, regenerate, reassign), split between the web servers the test bed runs. Then the
 * due retries run. At the end the faults stop and the queue runs to idle, and Zoom's live
 * meetings are compared with the appointments that should have one. The last line is
 * `rounds=R live=L expected=E duplicates=0 orphans=0 missing=0 lost_tokens=0`; anything
 * else exits 1.
 */
$rounds = max(1, (int) ($argv[1] ?? 20));
$seed = (int) ($argv[2] ?? random_int(1, PHP_INT_MAX));
mt_srand($seed);

require __DIR__ . '/clinic.php';

use KCTApp\auth\KCTTokenStore;
use KCTApp\meetings\KCTMappingRepository;

[$doctors, $patients, $servers, $key] = kct_soak_clinic();
$zoom = (string) getenv('KCT_ZOOM_URL');

// ---- rounds --------------------------------------------------------------------------------
$faults = [
    ['kind' => 'server_error', 'path_prefix' => '/v2/'],
    ['kind' => 'rate_limit', 'retry_after' => '7', 'path_prefix' => '/v2/'],
    ['kind' => 'rate_limit', 'retry_after' => 'date', 'path_prefix' => '/v2/'],
    ['kind' => 'rate_limit', 'retry_after' => 'absent', 'path_prefix' => '/v2/'],
    ['kind' => 'daily_cap', 'retry_after' => 'date', 'path_prefix' => '/v2/'],
    ['kind' => 'latency', 'latency_ms' => 3500, 'path_prefix' => '/v2/users'],
    ['kind' => 'drop_after_create', 'path_prefix' => '/v2/users'],
    ['kind' => 'expire_token'],
];
$nextId = 5000;
$known = []; // appointment ids ever booked (committed or not)
$history = []; // what was done to each appointment, for a problem's report
$tally = [];
$started = microtime(true);
for ($r = 1; $r <= $rounds; $r++) {
    zoom_admin('clear-faults');
    for ($f = mt_rand(0, 2); $f > 0; $f--) {
        $fault = $faults[mt_rand(0, count($faults) - 1)];
        // A token expires once: Zoom does not reject the token it has just issued.
        zoom_admin('fault', $fault + ['count' => $fault['kind'] === 'expire_token' ? 1 : mt_rand(1, 2)]);
    }
    $actions = [];
    $busy = [];
    for ($n = mt_rand(1, 4); $n > 0; $n--) {
        $mix = ['book', 'book', 'book', 'confirm', 'reschedule', 'reschedule', 'cancel', 'delete', 'regenerate', 'reassign'];
        $kind = $known ? $mix[mt_rand(0, count($mix) - 1)] : 'book';
        if ($kind === 'book') {
            $id = $nextId++;
            $known[] = $id;
            $actions[] = ['action' => 'book', 'id' => $id, 'doctor' => $doctors[mt_rand(0, 1)], 'patient' => $patients[mt_rand(0, 2)],
                'start' => date('Y-m-d H:i:s', strtotime('+' . mt_rand(2, 40) . ' days 09:00') + 900 * mt_rand(0, 20)),
                'status' => mt_rand(0, 3) === 0 ? 2 : 1, 'end' => mt_rand(0, 4) === 0 ? 'rollback' : 'commit'];
        } else {
            // Two actions on one appointment at once are allowed: that is the race to survive.
            $id = $known[mt_rand(0, count($known) - 1)];
            $a = ['action' => $kind, 'id' => $id];
            if ($kind === 'reschedule') {
                $a['minutes'] = 15 * mt_rand(1, 8);
            } elseif ($kind === 'reassign') {
                $a['doctor'] = $doctors[mt_rand(0, 1)];
            } elseif ($kind === 'confirm') {
                $a['status'] = mt_rand(0, 1) ? 1 : 4;
            }
            $actions[] = $a;
        }
        $tally[$kind] = ($tally[$kind] ?? 0) + 1;
    }
    foreach (run_actions($actions, $servers, $key) as $i => $answer) {
        $history[(int) $actions[$i]['id']][] = "round $r: " . json_encode($actions[$i]) . ' -> ' . json_encode($answer);
    }
    if (mt_rand(0, 2) === 0) {
        run_actions([['action' => 'drain']], $servers, $key);
    }
}

// ---- idle, then the count -------------------------------------------------------------------
zoom_admin('clear-faults');
// The drain makes every retry due at once. A create that timed out may still be running at
// Zoom (the latency fault): in real time its retry comes 15 s or more later, so let it end.
sleep(4);
for ($i = 0; $i < 20; $i++) {
    $d = run_actions([['action' => 'drain', 'all' => 1]], $servers, $key)[0];
    if ($d['owed'] === 0 && $d['ran'] === 0) {
        break;
    }
}
if ($d['owed'] !== 0) {
    fail("the queue did not drain: {$d['owed']} rows still owe work");
}
$t = $wpdb->prefix . 'kc_appointments';
$live = [];
foreach (zoom_admin('meetings', [], 'GET')['meetings'] as $m) {
    if (!preg_match('/#(\d+) /', (string) $m['topic'], $mm)) {
        fail('a meeting not made by the soak: ' . $m['topic']);
    }
    $live[(int) $mm[1]][] = (string) $m['id'];
}
$wanted = array_map('intval', $wpdb->get_col("SELECT id FROM $t WHERE status IN (1, 4)"));
$duplicates = $orphans = $missing = 0;
$problems = [];
foreach ($live as $id => $ids) {
    if (count($ids) > 1) {
        $duplicates += count($ids) - 1;
        $problems[] = "appointment $id has " . count($ids) . ' meetings';
    }
    if (!in_array($id, $wanted, true)) {
        $orphans += count($ids);
        $row = KCTMappingRepository::find($id);
        $status = $wpdb->get_var($wpdb->prepare("SELECT status FROM $t WHERE id = %d", $id));
        $problems[] = "appointment $id (" . ($status === null ? 'deleted' : "status $status") . ') wants no meeting but has ' . count($ids)
            . ' (row: ' . ($row === null ? 'none' : json_encode(array_intersect_key($row, array_flip(['status', 'intent', 'zoom_id', 'last_error', 'unconfirmed'])))) . ', live ' . implode(',', $ids) . ')';
    }
}
foreach ($wanted as $id) {
    $row = KCTMappingRepository::find($id);
    if ($row === null || !KCTMappingRepository::isLive($row) || !in_array($row['zoom_id'], $live[$id] ?? [], true)) {
        $missing++;
        $problems[] = "appointment $id has no live meeting (row: " . ($row === null ? 'none' : $row['status'] . ', ' . $row['last_error']) . ')';
    }
}
$lost = 0;
foreach ($doctors as $doctor) {
    if (KCTTokenStore::get($doctor, true)['state'] !== 'ok') {
        $lost++;
        $problems[] = "doctor $doctor lost the connection";
    }
}
$stats = zoom_admin('stats', [], 'GET');
printf("soak: seed %d, %d server(s), %.1f s; actions %s; Zoom calls %s; invalid bodies %d\n", $seed, count($servers),
    microtime(true) - $started, json_encode($tally), json_encode($stats['calls']), $stats['invalid_bodies']);
foreach (array_slice($problems, 0, 20) as $p) {
    echo "  problem: $p\n";
    if (preg_match('/appointment (\d+)/', $p, $pm)) {
        foreach ($history[(int) $pm[1]] ?? [] as $h) {
            echo "    $h\n";
        }
    }
}
$total = array_sum(array_map('count', $live));
printf("rounds=%d live=%d expected=%d duplicates=%d orphans=%d missing=%d lost_tokens=%d\n",
    $rounds, $total, count($wanted), $duplicates, $orphans, $missing, $lost);
exit(($duplicates || $orphans || $missing || $lost || $stats['invalid_bodies'] || $total !== count($wanted)) ? 1 : 0);
