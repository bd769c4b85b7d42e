<?php
/**
 * A booking's core calls (the golden vectors bench-bridge times) through today's facade,
 * two builds of the core in one process, in turns: `php ab-steps.php <base.wasm> <this.wasm>`.
 * Separate processes differ in speed on a noisy machine; calls in turns meet the same noise.
 * Prints a markdown table of medians and the ratio this / base.
 */
require dirname(__DIR__, 2) . '/php-bridge/app/autoload.php';
require __DIR__ . '/input.php';

[, $basePath, $thisPath] = $argv + [null, null, null];
if (!is_file((string) $basePath) || !is_file((string) $thisPath)) {
    fwrite(STDERR, "usage: php ab-steps.php <base.wasm> <this.wasm>\n");
    exit(2);
}
$builds = [];
foreach (['base' => $basePath, 'this' => $thisPath] as $name => $path) {
    try {
        $builds[$name] = new \KCTApp\wasm\KCTZoomCore(\KCTApp\wasm\KCTWasmLoader::core($path));
    } catch (\KCTApp\wasm\KCTRuntimeException $e) {
        // An older ABI (4 since the token and start-link answers changed): today's facade
        // cannot drive it, but the figures in wasmi alone above still compare the two.
        fwrite(STDERR, "through PHP: not compared, the $name build cannot be loaded through today's facade ({$e->getMessage()}); the figures above stand, and a later base compares through PHP too\n");
        exit(0);
    }
}
$steps = null;
foreach ($builds as $name => $facade) {
    $steps = kct_bench_booking_steps($facade);
    if ($steps === null) {
        fwrite(STDERR, "the $name build does not answer the booking's steps as today's golden vectors do (an older ABI?): pick a later base\n");
        exit(1);
    }
}
$rounds = 32;
$batch = 100;
$t = ['base' => [], 'this' => []];
for ($r = 0; $r < $rounds; $r++) {
    // Which build goes first alternates: the second of a pair ran about 2 % faster, even
    // with both builds the same file.
    $order = $r % 2 === 0 ? $builds : array_reverse($builds, true);
    foreach ($steps as $k => $in) {
        foreach ($order as $name => $facade) {
            $started = hrtime(true);
            for ($i = 0; $i < $batch; $i++) {
                $facade->lifecycleStep($in);
            }
            $t[$name][$k][] = (hrtime(true) - $started) / 1e3 / $batch;
        }
    }
}
$median = static function (array $a): float {
    sort($a);
    return $a[intdiv(count($a), 2)];
};
echo "| a booking's core calls through PHP, warm | base | this | this / base |\n|---|---|---|---|\n";
$m = [];
$labels = [
    'first' => 'first step (the create built)',
    'second' => 'second step (Zoom\'s answer folded in)',
    'second_full' => '… with an answer as long as Zoom\'s (2.9 KB)',
];
foreach ($labels as $k => $label) {
    foreach (['base', 'this'] as $name) {
        $m[$name][$k] = $median($t[$name][$k]);
    }
    printf("| %s | %.1f µs | %.1f µs | %.3f |\n", $label, $m['base'][$k], $m['this'][$k], $m['this'][$k] / $m['base'][$k]);
}
foreach (['second' => 'both', 'second_full' => 'both, the Zoom-sized answer'] as $k => $label) {
    $sum = ['base' => $m['base']['first'] + $m['base'][$k], 'this' => $m['this']['first'] + $m['this'][$k]];
    printf("| %s | %.1f µs | %.1f µs | %.3f |\n", $label, $sum['base'], $sum['this'], $sum['this'] / $sum['base']);
}
printf("\n%d rounds of %d calls per step and build, in turns; PHP %s\n", $rounds, $batch, PHP_VERSION);
