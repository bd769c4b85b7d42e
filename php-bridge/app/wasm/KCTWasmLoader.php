<?php

namespace KCTApp\wasm;

/**
 * Finds the runtime library and the core .wasm, reaches them through PHP FFI (a preloaded
 * scope when there is one, FFI::cdef otherwise), and says precisely what is wrong when it
 * cannot. Nothing here raises a fatal error.
 */
final class KCTWasmLoader
{
    /** The FFI scope name preload.php registers. */
    public const SCOPE = 'KCT_WASM';
    /** The core ABI this bridge speaks (src/abi: ABI_VERSION). */
    public const ABI_VERSION = 7;
    public const LIBRARY_FILE = 'libkct_wasm_runtime.so';
    public const CORE_FILE = 'kc_telemed.wasm';

    /** @var \FFI|null one FFI handle per process: a resource, not state */
    private static $ffi;
    /** @var string */
    private static $mode = 'none';

    /**
     * Whether this request reached the runtime at all (the FFI library or the core): a
     * request that touches no appointment and no Zoom screen must not (issue 14).
     */
    public static function touched(): bool
    {
        return self::$ffi !== null || KCTCore::$calls > 0;
    }

    public static function header(): string
    {
        return __DIR__ . '/kct_runtime.h';
    }

    /** Where the shipped binaries live inside the plugin. */
    public static function libDir(): string
    {
        return dirname(__DIR__, 2) . '/lib';
    }

    /** @return string[] */
    public static function libraryCandidates(): array
    {
        return self::candidates('KCT_WASM_RUNTIME_LIB', self::LIBRARY_FILE);
    }

    /** @return string[] */
    public static function coreCandidates(): array
    {
        return self::candidates('KCT_WASM_CORE', self::CORE_FILE);
    }

    /**
     * An explicit setting (a wp-config constant, else an environment variable) is the only
     * candidate, so a wrong path is reported rather than silently replaced; without one,
     * the plugin's lib/ folder and the system library folders are tried in order.
     */
    private static function candidates(string $name, string $file): array
    {
        if (defined($name) && constant($name)) {
            return [(string) constant($name)];
        }
        $env = getenv($name);
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        $paths = [self::libDir() . '/' . $file, '/usr/local/lib/kct/' . $file, '/usr/lib/kct/' . $file];
        if ($file === self::LIBRARY_FILE) {
            // The release carries one library per architecture (lib/x86_64, lib/aarch64).
            array_unshift($paths, self::libDir() . '/' . self::arch() . '/' . $file);
        }
        return $paths;
    }

    /** The running CPU as the release names it: x86_64 or aarch64. */
    public static function arch(): string
    {
        $m = strtolower(php_uname('m'));
        return ['amd64' => 'x86_64', 'x64' => 'x86_64', 'arm64' => 'aarch64'][$m] ?? $m;
    }

    /**
     * The header `ffi.preload=` needs (FFI_SCOPE and this install's absolute FFI_LIB), or null
     * when no library is found: PHP resolves no relative paths there.
     */
    public static function preloadHeader(): ?string
    {
        $lib = self::firstFile(self::libraryCandidates());
        if ($lib === null) {
            return null;
        }
        return sprintf("#define FFI_SCOPE \"%s\"\n#define FFI_LIB \"%s\"\n", self::SCOPE, addslashes($lib))
            . file_get_contents(self::header());
    }

    private static function firstFile(array $paths): ?string
    {
        foreach ($paths as $p) {
            if (is_file($p) && is_readable($p)) {
                return $p;
            }
        }
        return null;
    }

    public static function corePath(): ?string
    {
        return self::firstFile(self::coreCandidates());
    }

    /** The FFI extension's state alone, without loading anything. */
    public static function ffiState(): KCTRuntimeStatus
    {
        if (!extension_loaded('FFI') || !class_exists('FFI')) {
            return new KCTRuntimeStatus(
                KCTRuntimeStatus::FFI_MISSING,
                'PHP\'s FFI extension is not installed.',
                'install it (on Debian it is built into php8.2-cli / php8.2-fpm) and add "extension=ffi" to php.ini'
            );
        }
        if (self::scope() !== null) {
            return new KCTRuntimeStatus(KCTRuntimeStatus::OK, 'FFI is enabled (preloaded scope).', null, [], 'preloaded');
        }
        $setting = strtolower(trim((string) ini_get('ffi.enable')));
        if (in_array($setting, ['1', 'true', 'on', 'yes'], true)) {
            return new KCTRuntimeStatus(KCTRuntimeStatus::OK, 'FFI is enabled.', null, [], 'cdef');
        }
        if ($setting === 'preload') {
            if (in_array(PHP_SAPI, ['cli', 'phpdbg'], true)) {
                return new KCTRuntimeStatus(KCTRuntimeStatus::OK, 'FFI is enabled for the command line.', null, [], 'cdef');
            }
            return new KCTRuntimeStatus(
                KCTRuntimeStatus::FFI_PRELOAD_ONLY,
                'FFI is limited to preloaded code (ffi.enable=preload) and the runtime is not preloaded.',
                'preload it: opcache.enable=1, opcache.preload=' . dirname(__DIR__, 2) . '/preload.php, opcache.preload_user=www-data; or set ffi.enable=true'
            );
        }
        return new KCTRuntimeStatus(
            KCTRuntimeStatus::FFI_DISABLED,
            'FFI is disabled (ffi.enable=' . ($setting === '' ? '0' : $setting) . ').',
            'set ffi.enable=preload and preload ' . dirname(__DIR__, 2) . '/preload.php (recommended for PHP-FPM), or ffi.enable=true'
        );
    }

    private static function scope(): ?\FFI
    {
        if (!class_exists('FFI')) {
            return null;
        }
        try {
            return \FFI::scope(self::SCOPE);
        } catch (\Throwable $e) {
            return null;
        }
    }

    /**
     * The FFI handle to the runtime library.
     *
     * @throws KCTRuntimeException with the status when it cannot be had.
     */
    public static function ffi(): \FFI
    {
        if (self::$ffi !== null) {
            return self::$ffi;
        }
        $state = self::ffiState();
        if (!$state->ok()) {
            throw new KCTRuntimeException($state);
        }
        if ($state->mode === 'preloaded') {
            self::$mode = 'preloaded';
            return self::$ffi = self::scope();
        }
        $tried = self::libraryCandidates();
        $lib = self::firstFile($tried);
        if ($lib === null) {
            throw new KCTRuntimeException(new KCTRuntimeStatus(
                KCTRuntimeStatus::LIBRARY_MISSING,
                'The WASM runtime library was not found.',
                'build it with "make runtime" or set KCT_WASM_RUNTIME_LIB in wp-config.php',
                $tried
            ));
        }
        try {
            self::$ffi = \FFI::cdef((string) file_get_contents(self::header()), $lib);
        } catch (\Throwable $e) {
            throw new KCTRuntimeException(new KCTRuntimeStatus(
                KCTRuntimeStatus::LIBRARY_INVALID,
                'The WASM runtime library could not be loaded: ' . $e->getMessage(),
                'rebuild it with "make runtime" for this machine',
                [$lib]
            ));
        }
        self::$mode = 'cdef';
        return self::$ffi;
    }

    /**
     * A ready core instance.
     *
     * @throws KCTRuntimeException
     */
    public static function core(?string $corePath = null): KCTCore
    {
        $ffi = self::ffi();
        if ($corePath === null) {
            $tried = self::coreCandidates();
            $corePath = self::firstFile($tried);
            if ($corePath === null) {
                throw new KCTRuntimeException(new KCTRuntimeStatus(
                    KCTRuntimeStatus::CORE_MISSING,
                    'The core .wasm was not found.',
                    'build it with "make wasm" or set KCT_WASM_CORE in wp-config.php',
                    $tried
                ));
            }
        }
        self::diskCache($ffi);
        return new KCTCore($ffi, $corePath);
    }

    /**
     * Where a runtime that compiles ahead (wasmtime) keeps the compiled core between PHP
     * processes: KCT_WASM_CACHE_DIR, else `uploads/kct-zoom-cache`; the file is signed with
     * KCT_WASM_CACHE_KEY, else a key derived from the site's salts. wasmi keeps nothing.
     */
    private static function diskCache(\FFI $ffi): void
    {
        if ((int) $ffi->kct_rt_disk_cache(null, null) !== 1) {
            return; // this runtime keeps nothing on disk
        }
        $dir = self::cacheDir();
        $key = self::setting('KCT_WASM_CACHE_KEY');
        if ($key === '' && function_exists('wp_salt')) {
            $key = hash_hmac('sha256', 'kivicare-telemed-zoom compiled core', wp_salt('auth'));
        }
        if ($dir === '' || $key === '' || !self::cacheDirReady($dir)) {
            return;
        }
        $ffi->kct_rt_disk_cache($dir, $key);
    }

    /** KCT_WASM_CACHE_DIR, else `uploads/kct-zoom-cache`; '' when there is neither. */
    private static function cacheDir(): string
    {
        $dir = self::setting('KCT_WASM_CACHE_DIR');
        if ($dir === '' && function_exists('wp_upload_dir')) {
            $dir = rtrim((string) (wp_upload_dir(null, false)['basedir'] ?? ''), '/') . '/kct-zoom-cache';
        }
        return $dir;
    }

    /**
     * Removes what the disk cache left (compiled cores, their notes, half-written files); the
     * default directory goes too, with its guards, when nothing else is in it. A directory
     * named by KCT_WASM_CACHE_DIR is the site owner's and stays.
     *
     * @return int files removed
     */
    public static function removeDiskCache(): int
    {
        $dir = self::cacheDir();
        if ($dir === '' || !is_dir($dir)) {
            return 0;
        }
        $removed = 0;
        foreach (glob($dir . '/kct-core-*') ?: [] as $file) {
            if (is_file($file) && @unlink($file)) {
                $removed++;
            }
        }
        if (self::setting('KCT_WASM_CACHE_DIR') === '' && array_diff(scandir($dir) ?: [], ['.', '..', 'index.php', '.htaccess']) === []) {
            foreach (['index.php', '.htaccess'] as $guard) {
                if (is_file("$dir/$guard") && @unlink("$dir/$guard")) {
                    $removed++;
                }
            }
            @rmdir($dir);
        }
        return $removed;
    }

    private static function setting(string $name): string
    {
        if (defined($name) && constant($name)) {
            return (string) constant($name);
        }
        $env = getenv($name);
        return is_string($env) ? $env : '';
    }

    /** The directory exists, is writable, and a web server never lists or serves it. */
    private static function cacheDirReady(string $dir): bool
    {
        if (!is_dir($dir) && !@mkdir($dir, 0700, true)) {
            return false;
        }
        foreach (['index.php' => "<?php\n// Silence is golden.\n", '.htaccess' => "Require all denied\nDeny from all\n"] as $file => $text) {
            if (!is_file("$dir/$file")) {
                @file_put_contents("$dir/$file", $text);
            }
        }
        return is_writable($dir);
    }

    /** The full picture for diagnostics: FFI, library, core, ABI. Never throws. */
    public static function status(): KCTRuntimeStatus
    {
        try {
            $core = self::core();
            $core->abiVersion();
            return new KCTRuntimeStatus(KCTRuntimeStatus::OK, 'The Zoom core runs in this PHP process.', null, [], self::$mode);
        } catch (KCTRuntimeException $e) {
            $e->status->mode = self::$mode;
            return $e->status;
        }
    }
}
