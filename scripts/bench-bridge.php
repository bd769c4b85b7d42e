<?php
/**
 * `make bench-bridge`: what running the Rust core through PHP FFI costs, measured side by
 * side in one run. Medians of repeated runs; `--readme` writes the table into README.md.
 *
 *  1. cold start: a fresh `php` process that loads the library, compiles the core,
 *     instantiates it and makes one call, against an empty `php` process, per wasmi
 *     compilation mode;
 *  2. warm request in a long-lived worker: a new core object takes the worker's warm
 *     instance (kct_rt_instance) and makes one call;
 *  3. one create-meeting request built by the core, against pure PHP building the same
 *     payload with json_decode/json_encode;
 *  4. the same calls in wasmi alone, without PHP (tools/core-time): what the interpreter
 *     spends, and so what the bridge adds.
 */
require dirname(__DIR__) . '/php-bridge/app/autoload.php';
require __DIR__ . '/bench/input.php';

$root = dirname(__DIR__);
$php = PHP_BINARY;
$runs = (int) (getenv('BENCH_RUNS') ?: 21);

function median(array $xs): float
{
    sort($xs);
    $n = count($xs);
    return $n % 2 ? $xs[intdiv($n, 2)] : ($xs[$n / 2 - 1] + $xs[$n / 2]) / 2;
}

$input = kct_bench_input() + ['random' => bin2hex(random_bytes(16))];
$inputJson = json_encode($input);

/** The same request in plain PHP: what a hand-written addon would do per call. */
function pure_php_create(string $json): array
{
    $in = json_decode($json, true);
    $a = $in['appointment'];
    $alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
    $rand = hex2bin($in['random']);
    $pw = '';
    for ($i = 0; strlen($pw) < 10; $i++) {
        $pw .= $alphabet[ord($rand[$i]) % strlen($alphabet)];
    }
    $body = [
        'topic' => 'Telemedicine consultation ' . $a['correlation_ref'],
        'type' => 2,
        'start_time' => gmdate('Y-m-d\TH:i:s\Z', $a['start_unix']),
        'duration' => $a['duration_min'],
        'timezone' => $a['timezone'],
        'password' => $pw,
        'settings' => ['host_video' => true, 'participant_video' => true, 'join_before_host' => false,
            'mute_upon_entry' => true, 'waiting_room' => true, 'auto_recording' => 'none',
            'encryption_type' => 'enhanced_encryption', 'meeting_authentication' => false, 'audio' => 'voip',
            'approval_type' => 2, 'alternative_hosts' => implode(';', $in['policy']['alternative_hosts'])],
    ];
    return ['method' => 'POST', 'url' => rtrim($in['auth']['api_url'], '/') . '/v2/users/' . rawurlencode($in['host']) . '/meetings',
        'headers' => ['authorization' => 'Bearer ' . $in['auth']['access_token'], 'content-type' => 'application/json'],
        'body' => json_encode($body)];
}

// 1. Cold starts, interleaved so machine noise hits every variant alike.
$modes = ['lazy', 'lazy-translation', 'eager'];
$wall = ['empty' => []];
$inside = [];
foreach ($modes as $m) {
    $wall[$m] = [];
    $inside[$m] = [];
}
for ($r = 0; $r < $runs; $r++) {
    $t = hrtime(true);
    exec(escapeshellarg($php) . ' ' . escapeshellarg("$root/scripts/bench/empty.php"));
    $wall['empty'][] = (hrtime(true) - $t) / 1e3;
    foreach ($modes as $m) {
        $out = [];
        $t = hrtime(true);
        exec('KCT_WASM_COMPILATION=' . $m . ' ' . escapeshellarg($php) . ' ' . escapeshellarg("$root/scripts/bench/cold-child.php") . ' ' . escapeshellarg($inputJson), $out, $rc);
        $wall[$m][] = (hrtime(true) - $t) / 1e3;
        if ($rc !== 0) {
            fwrite(STDERR, implode("\n", $out) . "\n");
            exit(1);
        }
        $inside[$m][] = json_decode(end($out), true);
    }
}

// 2 and 3 in this process (the default, lazy, mode).
$core = \KCTApp\wasm\KCTWasmLoader::core();
$core->call('meeting.create', $input);
$warm = [];
for ($r = 0; $r < 400; $r++) {
    $t = hrtime(true);
    $c = \KCTApp\wasm\KCTWasmLoader::core();
    $c->call('meeting.create', $input);
    unset($c);
    $warm[] = (hrtime(true) - $t) / 1e3;
}
$batch = 200;
$viaCore = [];
$viaPhp = [];
for ($r = 0; $r < 25; $r++) {
    $t = hrtime(true);
    for ($i = 0; $i < $batch; $i++) {
        $core->call('meeting.create', $input);
    }
    $viaCore[] = (hrtime(true) - $t) / 1e3 / $batch;
    $t = hrtime(true);
    for ($i = 0; $i < $batch; $i++) {
        pure_php_create($inputJson);
    }
    $viaPhp[] = (hrtime(true) - $t) / 1e3 / $batch;
}

// A booking's two core calls as the bridge makes them (the facade: PHP arrays in and out,
// Zoom's answer as the request's tail), from the golden vectors, warm in a loop as the
// create above is measured: what issue 14's booking target counts.
$facade = new \KCTApp\wasm\KCTZoomCore($core);
$stepInputs = kct_bench_booking_steps($facade);
if ($stepInputs === null) {
    fwrite(STDERR, "the booking's steps did not answer as their golden vectors do\n");
    exit(1);
}
$stepTimes = array_fill_keys(array_keys($stepInputs), []);
for ($r = 0; $r < 25; $r++) {
    foreach ($stepInputs as $k => $in) {
        $t = hrtime(true);
        for ($i = 0; $i < $batch; $i++) {
            $facade->lifecycleStep($in);
        }
        $stepTimes[$k][] = (hrtime(true) - $t) / 1e3 / $batch;
    }
}

// The opt-in JIT runtime, when it has been built (make runtime-wasmtime).
$wasmtime = "$root/target/wasmtime/runtime/libkct_wasm_runtime.so";
$wt = null;
if (is_file($wasmtime)) {
    $env = 'KCT_WASM_RUNTIME_LIB=' . escapeshellarg($wasmtime) . ' ';
    $cold = [];
    for ($r = 0; $r < min($runs, 7); $r++) {
        $out = [];
        exec($env . escapeshellarg($php) . ' ' . escapeshellarg("$root/scripts/bench/cold-child.php") . ' ' . escapeshellarg($inputJson), $out);
        $cold[] = json_decode(end($out), true)['total'];
    }
    // The same with the compiled core kept on disk: the first process writes it, the next
    // ones read it back (issue 14's cache).
    $cacheDir = sys_get_temp_dir() . '/kct-bench-cache-' . getmypid();
    $cached = $env . 'KCT_WASM_CACHE_DIR=' . escapeshellarg($cacheDir) . ' KCT_WASM_CACHE_KEY=' . str_repeat('5a', 32) . ' ';
    $coldCached = [];
    for ($r = 0; $r <= $runs; $r++) {
        $out = [];
        exec($cached . escapeshellarg($php) . ' ' . escapeshellarg("$root/scripts/bench/cold-child.php") . ' ' . escapeshellarg($inputJson), $out);
        if ($r > 0) {
            $coldCached[] = json_decode(end($out), true)['total'];
        }
    }
    foreach (array_merge(glob("$cacheDir/*") ?: [], ["$cacheDir/.htaccess"]) as $f) {
        if (is_file($f)) {
            unlink($f);
        }
    }
    @rmdir($cacheDir);
    $out = [];
    exec($env . escapeshellarg($php) . ' ' . escapeshellarg("$root/scripts/bench/percall-child.php") . ' ' . escapeshellarg($inputJson), $out);
    $wt = ['cold' => median($cold), 'cold_cached' => median($coldCached)] + (json_decode((string) end($out), true) ?: []);
}

// 4. The same calls in wasmi alone (tools/core-time, built by make bench-bridge with the
// runtime library's profile, so its interpreter is built as the one PHP loads).
$timeTool = "$root/target/runtime/core-time";
$alone = [];
$aloneCold = [];
if (is_file($timeTool)) {
    $dir = sys_get_temp_dir() . '/kct-time-' . getmypid();
    @mkdir($dir);
    $requests = [
        '`token.decide`' => ['op' => 'token.decide', 'input' => ['mode' => 's2s', 'now' => 1]],
        '`meeting.create`' => ['op' => 'meeting.create', 'input' => $input],
    ];
    // A booking's two steps, as the golden vectors make them: the first builds the create,
    // the second folds Zoom's answer into the row (byte for byte as the bridge sends it:
    // the answer as the request's tail, the row without its null fields).
    $steps = [
        '`lifecycle.step`, a booking\'s first (the create built)' => 'new-booking-request-built',
        '`lifecycle.step`, its second (Zoom\'s answer folded into the row)' => 'create-answered-as-sent',
        '… its second with an answer as long as Zoom\'s (2.9 KB)' => 'create-answered-in-full-as-sent',
    ];
    $files = [];
    foreach ($steps as $label => $vector) {
        $files[$label] = "$dir/" . count($files) . '.json';
        file_put_contents($files[$label], kct_bench_vector_request('lifecycle.step', $vector));
    }
    foreach ($requests as $op => $req) {
        $files[$op] = "$dir/" . count($files) . '.json';
        file_put_contents($files[$op], json_encode($req, JSON_UNESCAPED_SLASHES));
    }
    $out = [];
    exec(escapeshellarg($timeTool) . ' ' . escapeshellarg(\KCTApp\wasm\KCTWasmLoader::corePath()) . ' -- ' . implode(' ', array_map('escapeshellarg', $files)), $out, $rc);
    foreach ($out as $i => $line) {
        $alone[array_keys($files)[$i]] = (float) explode("\t", $line)[2];
    }
    // Each call alone after 64 MB of other memory is written: the caches as a web request
    // leaves them (what the booking's figure in `make bench` meets).
    $out = [];
    exec(escapeshellarg($timeTool) . ' --cold ' . escapeshellarg(\KCTApp\wasm\KCTWasmLoader::corePath()) . ' -- ' . implode(' ', array_map('escapeshellarg', $files)), $out, $rc);
    foreach ($rc === 0 ? $out : [] as $i => $line) {
        $aloneCold[array_keys($files)[$i]] = (float) explode("\t", $line)[2];
    }
    array_map('unlink', $files);
    @rmdir($dir);
}

// 5. The shipped runtime library (profile-guided, `make runtime`) against a plain build of the
// same source (target/runtime, built by make bench-bridge), in alternating processes: the same
// calls per call, and a cold start.
$plain = "$root/target/runtime/libkct_wasm_runtime.so";
$pgo = [];
if (is_file($plain)) {
    $libs = ['plain' => $plain, 'pgo' => "$root/php-bridge/lib/libkct_wasm_runtime.so"];
    $perCall = ['plain' => [], 'pgo' => []];
    $coldStart = ['plain' => [], 'pgo' => []];
    $pairs = (int) (getenv('BENCH_PGO_PAIRS') ?: 10);
    // A child's last line of JSON with that library, or the run stops with what it printed.
    $child = static function (string $name, string $script, string ...$args) use ($php, $root, $libs): array {
        $out = [];
        exec('KCT_WASM_RUNTIME_LIB=' . escapeshellarg($libs[$name]) . ' ' . escapeshellarg($php) . ' '
            . implode(' ', array_map('escapeshellarg', array_merge(["$root/scripts/bench/$script"], $args))), $out, $rc);
        $got = json_decode((string) end($out), true);
        if ($rc !== 0 || !is_array($got)) {
            fwrite(STDERR, "$script failed with the $name runtime library: " . implode("\n", $out) . "\n");
            exit(1);
        }
        return $got;
    };
    for ($r = 0; $r < $pairs; $r++) {
        foreach ($r % 2 === 0 ? ['plain', 'pgo'] : ['pgo', 'plain'] as $name) {
            $perCall[$name][] = $child($name, 'percall-child.php', $inputJson, '9');
            $coldStart[$name][] = (float) $child($name, 'cold-child.php', $inputJson)['total'];
        }
    }
    foreach (['create', 'first', 'second', 'second_full'] as $k) {
        foreach ($libs as $name => $lib) {
            $pgo[$k][$name] = median(array_column($perCall[$name], $k));
        }
    }
    $pgo['cold'] = ['plain' => median($coldStart['plain']), 'pgo' => median($coldStart['pgo'])];
}

$ms = function (float $us): string { return sprintf('%.2f ms', $us / 1000); };
$usf = function (float $us): string { return sprintf('%.1f µs', $us); };
$rows = [];
$rows[] = '| measurement | median |';
$rows[] = '|---|---|';
$rows[] = '| empty `php` process (wall) | ' . $ms(median($wall['empty'])) . ' |';
foreach ($modes as $m) {
    $in = $inside[$m];
    $rows[] = sprintf(
        '| cold start, wasmi `%s` (wall, incl. process) | %s (+%s over empty) |',
        $m,
        $ms(median($wall[$m])),
        $ms(median($wall[$m]) - median($wall['empty']))
    );
    $rows[] = sprintf(
        '| … inside PHP: load library %s + compile and instantiate %s + first call %s | %s |',
        $ms(median(array_column($in, 'load'))),
        $ms(median(array_column($in, 'compile_instantiate'))),
        $ms(median(array_column($in, 'first_call'))),
        $ms(median(array_column($in, 'total')))
    );
}
$rows[] = '| warm request in a long-lived worker (a new core object takes the warm instance + one create call) | ' . $usf(median($warm)) . ' |';
$rows[] = '| create-meeting request built by the core, per call | ' . $usf(median($viaCore)) . ' |';
$rows[] = '| the same payload in pure PHP (json_decode/json_encode), per call | ' . $usf(median($viaPhp)) . ' |';
$rows[] = sprintf('| ratio core / pure PHP | %.1f× |', median($viaCore) / median($viaPhp));
$rows[] = sprintf(
    '| a booking\'s two core calls (`lifecycle.step`: the create built, then Zoom\'s answer folded in), JSON in and out included, warm | %s (%s + %s) |',
    $usf(median($stepTimes['first']) + median($stepTimes['second'])),
    $usf(median($stepTimes['first'])),
    $usf(median($stepTimes['second']))
);
$rows[] = sprintf(
    '| … the same with an answer as long as Zoom\'s own (2.9 KB: about fifty settings, dial-in numbers, a signed `zak`; the golden vector\'s is 0.4 KB) | %s (%s + %s) |',
    $usf(median($stepTimes['first']) + median($stepTimes['second_full'])),
    $usf(median($stepTimes['first'])),
    $usf(median($stepTimes['second_full']))
);
foreach ($alone as $op => $us) {
    $cold = isset($aloneCold[$op]) ? sprintf('; from cold caches (`--cold`: 64 MB written before each call) %s', $usf($aloneCold[$op])) : '';
    $rows[] = sprintf('| %s in wasmi alone, no PHP (tools/core-time), per call | %s%s |', $op, $usf($us), $cold);
}
if ($wt !== null) {
    $rows[] = '| opt-in wasmtime (cranelift): cold start inside PHP, compiling the whole core (7 runs) | ' . $ms($wt['cold']) . ' |';
    $rows[] = '| opt-in wasmtime: cold start inside PHP, compiled core read from the disk cache | ' . $ms($wt['cold_cached']) . ' |';
    if (!isset($wt['create'], $wt['first'], $wt['second'], $wt['second_full'])) {
        fwrite(STDERR, "the wasmtime runtime's per-call figures are missing (scripts/bench/percall-child.php failed)\n");
        exit(1);
    }
    $rows[] = '| opt-in wasmtime: create-meeting request, per call | ' . $usf($wt['create']) . ' |';
    $rows[] = sprintf(
        '| opt-in wasmtime: a booking\'s two core calls as above, warm; with the answer as long as Zoom\'s | %s (%s + %s); %s (%s + %s) |',
        $usf($wt['first'] + $wt['second']),
        $usf($wt['first']),
        $usf($wt['second']),
        $usf($wt['first'] + $wt['second_full']),
        $usf($wt['first']),
        $usf($wt['second_full'])
    );
}
if ($pgo !== []) {
    $vs = static function (array $p, callable $f): string {
        return sprintf('%s against %s (%.3f)', $f($p['pgo']), $f($p['plain']), $p['pgo'] / $p['plain']);
    };
    $rows[] = sprintf(
        '| the runtime library as shipped (profile-guided) against a plain build, alternating processes (%d pairs): a create; the booking\'s first step; its second; with Zoom\'s answer; a cold start inside PHP | %s; %s; %s; %s; %s |',
        $pairs,
        $vs($pgo['create'], $usf),
        $vs($pgo['first'], $usf),
        $vs($pgo['second'], $usf),
        $vs($pgo['second_full'], $usf),
        $vs($pgo['cold'], $ms)
    );
}
$table = implode("\n", $rows);
$stats = $core->cacheStats();
echo $table, "\n\n", sprintf("%d cold runs per variant, PHP %s, module cache: %d compiles, %d hits in this process\n", $runs, PHP_VERSION, $stats['compiles'], $stats['hits']);

if (in_array('--readme', $argv, true)) {
    $readme = file_get_contents("$root/README.md");
    $note = sprintf("\n\nMeasured %s on this machine (%d cold runs per variant, medians; PHP %s).\n", gmdate('Y-m-d'), $runs, PHP_VERSION);
    $readme = preg_replace('/(<!-- bench-bridge:begin -->\n).*?(<!-- bench-bridge:end -->)/s', '$1' . $table . $note . '$2', $readme);
    file_put_contents("$root/README.md", $readme);
    echo "README.md updated\n";
}
