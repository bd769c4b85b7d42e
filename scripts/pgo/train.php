<?php
/**
 * The workload the runtime library's profile-guided build learns from (scripts/build-runtime.sh):
 * every golden vector (tests/vectors: every operation, its errors included) through PHP -> FFI ->
 * the instrumented library -> the core, ten times. Not the benchmarks' own calls, so the gain
 * `make bench-bridge` shows is not the profile learning its own test.
 *
 * `php -d ffi.enable=1 scripts/pgo/train.php`, with KCT_WASM_RUNTIME_LIB naming the instrumented
 * library. Exits non-zero when a call could not be made at all, so no build learns from nothing.
 */
require dirname(__DIR__, 2) . '/php-bridge/app/autoload.php';
require dirname(__DIR__) . '/bench/input.php';

$requests = [];
foreach (glob(dirname(__DIR__, 2) . '/tests/vectors/*/*.json') as $file) {
    $op = basename(dirname($file));
    if ($op !== '_fixtures') {
        $requests[] = kct_bench_vector_request($op, basename($file, '.json'));
    }
}
$core = \KCTApp\wasm\KCTWasmLoader::core();
$answered = 0;
for ($round = 0; $round < 10; $round++) {
    foreach ($requests as $request) {
        try {
            $core->callRaw($request);
            $answered++;
        } catch (\Throwable $e) {
            // None does today; a trap discards the instance, and the next call takes a new one.
            $core = \KCTApp\wasm\KCTWasmLoader::core();
        }
    }
}
if ($answered < count($requests) * 9) {
    fwrite(STDERR, sprintf("pgo: only %d of %d calls answered\n", $answered, count($requests) * 10));
    exit(1);
}
printf("pgo: %d calls over %d golden vectors\n", $answered, count($requests));
