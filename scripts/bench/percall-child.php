<?php
// Per-call costs in this process, whatever runtime KCT_WASM_RUNTIME_LIB selects: one
// create-meeting request, and a booking's `lifecycle.step` calls through the facade (the
// golden vectors' inputs, as bench-bridge times them with wasmi). Prints one JSON line of
// median microseconds per call. `percall-child.php <create input JSON> [rounds, 25]`.
require dirname(__DIR__, 2) . '/php-bridge/app/autoload.php';
require __DIR__ . '/input.php';
$input = json_decode($argv[1], true);
$core = \KCTApp\wasm\KCTWasmLoader::core();
$facade = new \KCTApp\wasm\KCTZoomCore($core);
$steps = kct_bench_booking_steps($facade);
if ($steps === null) {
    fwrite(STDERR, "the booking's steps did not answer as their golden vectors do\n");
    exit(1);
}
$work = ['create' => static function () use ($core, $input) {
    $core->call('meeting.create', $input);
}];
foreach ($steps as $k => $in) {
    $work[$k] = static function () use ($facade, $in) {
        $facade->lifecycleStep($in);
    };
}
$work['create']();
$xs = array_fill_keys(array_keys($work), []);
$rounds = (int) ($argv[2] ?? 25);
for ($r = 0; $r < $rounds; $r++) {
    foreach ($work as $k => $call) {
        $t = hrtime(true);
        for ($i = 0; $i < 200; $i++) {
            $call();
        }
        $xs[$k][] = (hrtime(true) - $t) / 1e3 / 200;
    }
}
$median = array_map(static function (array $x): float {
    sort($x);
    return $x[intdiv(count($x), 2)];
}, $xs);
echo json_encode($median), "\n";
