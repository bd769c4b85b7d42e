<?php

namespace KCTApp\wasm;

/**
 * Whether the WASM runtime can run here, and if not, why and the exact fix. Produced by
 * KCTWasmLoader::status() without ever raising a fatal error, so Site Health (and its
 * admin notice) can show it.
 */
final class KCTRuntimeStatus
{
    public const OK = 'ok';
    public const FFI_MISSING = 'ffi_missing';
    public const FFI_DISABLED = 'ffi_disabled';
    public const FFI_PRELOAD_ONLY = 'ffi_preload_only';
    public const LIBRARY_MISSING = 'library_missing';
    public const LIBRARY_INVALID = 'library_invalid';
    public const CORE_MISSING = 'core_missing';
    public const CORE_INVALID = 'core_invalid';
    public const ABI_MISMATCH = 'abi_mismatch';

    /** @var string one of the constants above */
    public $state;
    /** @var string */
    public $message;
    /** @var string|null the php.ini line or step that fixes it */
    public $fix;
    /** @var string[] every path that was tried, for "not found" states */
    public $tried;
    /** @var string how FFI is reached: 'preloaded', 'cdef' or 'none' */
    public $mode;

    public function __construct(string $state, string $message, ?string $fix = null, array $tried = [], string $mode = 'none')
    {
        $this->state = $state;
        $this->message = $message;
        $this->fix = $fix;
        $this->tried = $tried;
        $this->mode = $mode;
    }

    public function ok(): bool
    {
        return $this->state === self::OK;
    }

    public function toArray(): array
    {
        return [
            'state' => $this->state,
            'message' => $this->message,
            'fix' => $this->fix,
            'tried' => $this->tried,
            'mode' => $this->mode,
        ];
    }
}
