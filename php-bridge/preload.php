<?php

/**
 * opcache.preload script for production PHP-FPM: compiles the bridge's classes once per
 * server start and, when the runtime is not already registered through ffi.preload,
 * registers it as the FFI scope "KCT_WASM" so workers can run the core with
 * ffi.enable=preload (FFI closed to everything else).
 *
 * PHP refuses FFI::load together with opcache.preload_user (needed when the master runs as
 * root); there, use ffi.preload=<plugin>/lib/kct_runtime.preload.h instead. See the README.
 */

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
    error_log('kivicare-telemed-zoom preload: FFI::load cannot run with opcache.preload_user; set ffi.preload=' . \KCTApp\wasm\KCTWasmLoader::libDir() . '/kct_runtime.preload.h'); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- runs before WordPress: PHP's log is the only one
    return;
}

$lib = null;
foreach (\KCTApp\wasm\KCTWasmLoader::libraryCandidates() as $candidate) {
    if (is_file($candidate)) {
        $lib = $candidate;
        break;
    }
}
if ($lib === null) {
    // Not fatal: the loader reports library_missing with every path it tried.
    error_log('kivicare-telemed-zoom preload: WASM runtime library not found; tried ' . implode(', ', \KCTApp\wasm\KCTWasmLoader::libraryCandidates())); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- runs before WordPress: PHP's log is the only one
    return;
}
// FFI::load reads FFI_SCOPE and FFI_LIB from the header itself.
$header = sprintf("#define FFI_SCOPE \"%s\"\n#define FFI_LIB \"%s\"\n", \KCTApp\wasm\KCTWasmLoader::SCOPE, addslashes($lib))
    . file_get_contents(\KCTApp\wasm\KCTWasmLoader::header());
$tmp = tempnam(sys_get_temp_dir(), 'kct-ffi-');
file_put_contents($tmp, $header);
try {
    \FFI::load($tmp);
} catch (\Throwable $e) {
    error_log('kivicare-telemed-zoom preload: ' . $e->getMessage()); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- runs before WordPress: PHP's log is the only one
} finally {
    unlink($tmp);
}
