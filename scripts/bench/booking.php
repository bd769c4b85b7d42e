<?php
/**
 * `make bench`: a booking end to end on the test bed, with this addon against a stand-in
 * provider that answers at once. Each run books an appointment the way KiviCare 4.3.0 does
 * (its row and create_meeting inside its transaction, over HTTP to the test bed's web
 * server), the addon's meeting made at the fake Zoom over loopback until the row is active.
 * Runs are interleaved (zoom, none, none, zoom, ...) so machine noise hits both alike;
 * medians. Also: one page with the plugin active against inactive, interleaved the same way.
 * `--readme` writes the table into README.md. With KCT_WASM_RUNTIME_LIB set, the test bed's web
 * servers (and the table's label) use that runtime library instead of the default wasmi.
 */
require dirname(__DIR__) . '/soak/clinic.php';

use KCTApp\meetings\KCTMappingRepository;

$runs = max(31, (int) (getenv('BENCH_RUNS') ?: 31));
[$doctors, $patients, $servers, $key] = kct_soak_clinic();
$base = $servers[0];

function median(array $xs): float
{
    sort($xs);
    $n = count($xs);
    return $n % 2 ? $xs[intdiv($n, 2)] : ($xs[$n / 2 - 1] + $xs[$n / 2]) / 2;
}

/** One GET; [wall µs, decoded body]. */
function timed_get(string $url): array
{
    $h = curl_init($url);
    curl_setopt_array($h, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 60]);
    $t = hrtime(true);
    $body = (string) curl_exec($h);
    $wall = (hrtime(true) - $t) / 1000;
    $code = curl_getinfo($h, CURLINFO_HTTP_CODE);
    curl_close($h);
    if ($code !== 200) {
        fail("GET $url answered $code: " . substr($body, 0, 200));
    }
    return [$wall, json_decode($body, true)];
}

$id = 70000;
$book = static function (string $provider) use (&$id, $base, $key, $doctors, $patients) {
    global $workerFile;
    $id++;
    $start = (new DateTimeImmutable('+3 days 10:00', new DateTimeZone('America/New_York')))->format('Y-m-d H:i:s');
    [$wall, $out] = timed_get($base . '/' . $workerFile . '?' . http_build_query(['action' => 'book', 'id' => $id, 'provider' => $provider,
        'doctor' => $doctors[0], 'patient' => $patients[0], 'start' => $start, 'status' => 1, 'end' => 'commit', 'key' => $key]));
    if ($provider === 'zoom' && (($out['meeting'] ?? '') !== 'ok' || (KCTMappingRepository::find($id, true)['status'] ?? '') !== 'active')) {
        fail("booking $id did not end with an active meeting: " . json_encode($out));
    }
    return ['wall' => $wall] + $out;
};

// Warm both paths (opcache, the worker's module cache, the token), then measure.
for ($i = 0; $i < 3; $i++) {
    $book('zoom');
    $book('none');
}
$m = ['zoom' => [], 'none' => []];
for ($i = 0; $i < $runs; $i++) {
    foreach ($i % 2 ? ['none', 'zoom'] : ['zoom', 'none'] as $p) {
        $m[$p][] = $book($p);
    }
}

// One page with the plugin active and inactive (the option WordPress reads on each request).
$file = 'kivicare-telemed-zoom/kivicare-telemed-zoom.php';
$page = ['active' => [], 'inactive' => []];
$setActive = static function (bool $on) use ($file) {
    $plugins = array_values(array_diff((array) get_option('active_plugins', []), [$file]));
    if ($on) {
        $plugins[] = $file;
    }
    update_option('active_plugins', $plugins);
};
try {
    for ($i = 0; $i < $runs + 3; $i++) {
        foreach ($i % 2 ? ['inactive', 'active'] : ['active', 'inactive'] as $state) {
            $setActive($state === 'active');
            $h = curl_init($base . '/wp-login.php');
            curl_setopt_array($h, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 60]);
            $t = hrtime(true);
            curl_exec($h);
            if ($i >= 3) {
                $page[$state][] = (hrtime(true) - $t) / 1000;
            }
            curl_close($h);
        }
    }
} finally {
    $setActive(true);
}

$col = static function (array $rows, string $k): array {
    return array_column($rows, $k);
};
$ms = static function (float $us): string {
    return sprintf('%.2f ms', $us / 1000);
};
// The runtime the web servers load (the same library as this process: KCT_WASM_RUNTIME_LIB
// or the default); only wasmtime keeps a compiled core on disk.
$runtime = (int) \KCTApp\wasm\KCTWasmLoader::ffi()->kct_rt_disk_cache(null, null) === 1 ? 'wasmtime' : 'wasmi';
$zw = median($col($m['zoom'], 'wall'));
$nw = median($col($m['none'], 'wall'));
$rows = [
    '| measurement | median |',
    '|---|---|',
    sprintf('| booking over HTTP, this addon (meeting made at the fake Zoom, row active) | %s |', $ms($zw)),
    sprintf('| booking over HTTP, a stand-in provider that answers at once | %s |', $ms($nw)),
    sprintf('| ratio addon / stand-in | %.2f× (+%s) |', $zw / $nw, $ms($zw - $nw)),
    sprintf('| … inside the request, transaction to commit: addon %s, stand-in %s | |', $ms(median($col($m['zoom'], 'booking_us'))), $ms(median($col($m['none'], 'booking_us')))),
    sprintf('| … core calls per booking (the addon) | %d |', (int) median($col($m['zoom'], 'core_calls'))),
    sprintf('| … core time per booking, %s, JSON in and out included | %.0f µs |', $runtime, median($col($m['zoom'], 'core_us'))),
    sprintf('| … of which the runtime call (request in, the guest, answer out): %.0f µs; PHP around it (JSON encode and decode): %.0f µs | |', median($col($m['zoom'], 'runtime_us')), median(array_map(static function (array $r): float {
        return $r['core_us'] - $r['runtime_us'];
    }, $m['zoom']))),
    '| … each core call, in order: ' . implode(', ', array_map(static function (int $i) use ($m): string {
        $us = array_map(static function (array $r) use ($i): float {
            return (float) ($r['core_calls_us'][$i][1] ?? 0);
        }, $m['zoom']);
        return sprintf('`%s` %.0f µs', $m['zoom'][0]['core_calls_us'][$i][0] ?? '?', median($us));
    }, array_keys($m['zoom'][0]['core_calls_us'] ?? []))) . ' | |',
    sprintf('| `wp-login.php`, plugin active | %s |', $ms(median($page['active']))),
    sprintf('| `wp-login.php`, plugin inactive | %s |', $ms(median($page['inactive']))),
    sprintf('| ratio active / inactive | %.3f× |', median($page['active']) / median($page['inactive'])),
];
$table = implode("\n", $rows) . sprintf("\n\nMeasured %s on this machine (%d interleaved runs each, medians; PHP %s, %d web workers).", gmdate('Y-m-d'), $runs, PHP_VERSION, 4);
echo $table, "\n";
if (in_array('--readme', $argv, true)) {
    $readme = dirname(__DIR__, 2) . '/README.md';
    $s = (string) file_get_contents($readme);
    $s = preg_replace('/(<!-- bench-booking:begin -->\n).*?(<!-- bench-booking:end -->)/s', '${1}' . str_replace('$', '\$', $table) . "\n" . '${2}', $s, 1, $n);
    if ($n !== 1) {
        fail('README.md has no bench-booking markers');
    }
    file_put_contents($readme, $s);
    echo "README.md updated\n";
}
