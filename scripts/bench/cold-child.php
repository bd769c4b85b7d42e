<?php
// One cold start in a fresh process: load the library, compile the core, instantiate it,
// make the first call. Prints the phases in microseconds as JSON.
$t0 = hrtime(true);
require dirname(__DIR__, 2) . '/php-bridge/app/autoload.php';
$ffi = \KCTApp\wasm\KCTWasmLoader::ffi();
$t1 = hrtime(true);
$core = \KCTApp\wasm\KCTWasmLoader::core();
$t2 = hrtime(true);
$core->call('meeting.create', json_decode($argv[1], true));
$t3 = hrtime(true);
echo json_encode(['load' => ($t1 - $t0) / 1e3, 'compile_instantiate' => ($t2 - $t1) / 1e3, 'first_call' => ($t3 - $t2) / 1e3, 'total' => ($t3 - $t0) / 1e3]), "\n";
