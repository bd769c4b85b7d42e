<?php

namespace KCTApp\zoom;

use KCTApp\wasm\KCTCoreException;
use KCTApp\wasm\KCTRuntimeException;
use KCTApp\wasm\KCTZoomCore;

/**
 * The core for WordPress code: one facade per request, and core errors as WP_Error with a
 * prefixed code. Nothing else in the plugin talks to the bridge directly.
 */
final class KCTCoreAccess
{
    /** @var KCTZoomCore|null */
    private static $core;

    /** Where the last failure to load the runtime is kept, for administrators' notice. */
    public const FAILURE_OPTION = 'kct_zoom_runtime_failure';

    /** @return KCTZoomCore|\WP_Error */
    public static function core()
    {
        if (self::$core === null) {
            try {
                self::$core = KCTZoomCore::load();
            } catch (KCTRuntimeException $e) {
                if (get_option(self::FAILURE_OPTION) === false) {
                    update_option(self::FAILURE_OPTION, ['message' => $e->status->message, 'fix' => $e->status->fix, 'state' => $e->status->state, 'at' => time()], true);
                }
                return new \WP_Error('kct_runtime_unavailable', $e->getMessage(), ['status' => 503, 'runtime' => $e->status->toArray()]);
            }
            // The failure is kept autoloaded, so whether there is one is known from the
            // options WordPress loaded anyway: `get_option` on an absent option asks the
            // database again on every request. The notice goes away once the core runs.
            if (array_key_exists(self::FAILURE_OPTION, wp_load_alloptions())) {
                delete_option(self::FAILURE_OPTION);
            }
        }
        return self::$core;
    }

    /**
     * Runs `$fn($core)` and turns a core error into WP_Error.
     *
     * @return mixed|\WP_Error
     */
    public static function run(callable $fn)
    {
        $core = self::core();
        if (is_wp_error($core)) {
            return $core;
        }
        try {
            return $fn($core);
        } catch (KCTCoreException $e) {
            return self::error($e);
        }
    }

    public static function error(KCTCoreException $e, int $status = 400): \WP_Error
    {
        $data = ['status' => $status];
        if ($e->field !== null) {
            $data['field'] = $e->field;
        }
        return new \WP_Error('kct_' . $e->errorCode, $e->getMessage(), $data);
    }

    /** Host entropy for the core, as hex. */
    public static function random(int $bytes = 32): string
    {
        return bin2hex(random_bytes($bytes));
    }
}
