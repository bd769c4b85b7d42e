<?php

/**
 * opcache.preload script for production PHP-FPM: compiles the bridge's classes once per
 * server start and, when the runtime is not already registered through ffi.preload,
 * registers it as the FFI scope "KCT_WASM" so workers can run the core with
 * ffi.enable=preload (FFI closed to everything else).
 *
 * PHP refuses FFI::load together with opcache.preload_user (needed when the master runs as
 * root); there, point ffi.preload= at the header `php preload.php header` writes. See the README.
 */

// `php preload.php header > /etc/php/kct_runtime.h`: the header for ffi.preload= on this
// install (the release carries none: it must name this site's absolute library path).
if (PHP_SAPI === 'cli' && ($argv[1] ?? '') === 'header') {
    require __DIR__ . '/app/wasm/KCTWasmLoader.php';
    $header = \KCTApp\wasm\KCTWasmLoader::preloadHeader();
    if ($header === null) {
        fwrite(STDERR, 'WASM runtime library not found; tried '
            . implode(', ', \KCTApp\wasm\KCTWasmLoader::libraryCandidates()) . "\n");
        exit(1);
    }
    echo $header;
    exit(0);
}

// This script itself uses the loader (which declares it); every other class is preloaded.
foreach (glob(__DIR__ . '/app/wasm/*.php') as $file) {
    if (basename($file) !== 'KCTWasmLoader.php') {
        opcache_compile_file($file);
    }
}
require __DIR__ . '/app/autoload.php';

try {
    \FFI::scope(\KCTApp\wasm\KCTWasmLoader::SCOPE);
    return; // already registered by ffi.preload
} catch (\Throwable $e) {
}
if (ini_get('opcache.preload_user')) {
    error_log('kivicare-telemed-zoom preload: FFI::load cannot run with opcache.preload_user; write the header with `php ' . __FILE__ . ' header > kct_runtime.h` and set ffi.preload= to it'); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- runs before WordPress: PHP's log is the only one
    return;
}

$header = \KCTApp\wasm\KCTWasmLoader::preloadHeader();
if ($header === null) {
    // Not fatal: the loader reports library_missing with every path it tried.
    error_log('kivicare-telemed-zoom preload: WASM runtime library not found; tried ' . implode(', ', \KCTApp\wasm\KCTWasmLoader::libraryCandidates())); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- runs before WordPress: PHP's log is the only one
    return;
}
// FFI::load reads FFI_SCOPE and FFI_LIB from the header itself.
$tmp = tempnam(sys_get_temp_dir(), 'kct-ffi-');
file_put_contents($tmp, $header);
try {
    \FFI::load($tmp);
} catch (\Throwable $e) {
    error_log('kivicare-telemed-zoom preload: ' . $e->getMessage()); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- runs before WordPress: PHP's log is the only one
} finally {
    unlink($tmp);
}
