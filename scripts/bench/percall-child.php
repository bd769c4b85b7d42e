<?php
// Per-call cost of one create-meeting request in this process (whatever runtime
// KCT_WASM_RUNTIME_LIB selects): prints the median microseconds over batches.
require dirname(__DIR__, 2) . '/php-bridge/app/autoload.php';
$input = json_decode($argv[1], true);
$core = \KCTApp\wasm\KCTWasmLoader::core();
$core->call('meeting.create', $input);
$xs = [];
for ($r = 0; $r < 25; $r++) {
    $t = hrtime(true);
    for ($i = 0; $i < 200; $i++) {
        $core->call('meeting.create', $input);
    }
    $xs[] = (hrtime(true) - $t) / 1e3 / 200;
}
sort($xs);
echo $xs[12], "\n";
