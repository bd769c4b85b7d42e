<?php

namespace KCTApp\wasm;

/**
 * The core .wasm behind PHP FFI. JSON in, JSON out, through the core's exports
 * (kct_buffer, kct_call, kct_free), which the runtime calls for us in one FFI call
 * (`kct_rt_call`). The instance is the runtime's warm one for this worker
 * (`kct_rt_instance`): made once, called by every request the worker serves, never deleted
 * here. Memory discipline (kept by the runtime for each call, by this class for the ABI
 * check): the memory base is re-read after every guest call (memory moves when it grows),
 * every copy is bounds-checked, every answer is freed, requests go through the instance's
 * one request buffer, and after a trap the instance is dropped (the next call makes a fresh
 * one) and the guest's panic message is surfaced.
 */
final class KCTCore
{
    /** Same cap as the core's; checked here so an oversized request is never copied in. */
    public const MAX_INPUT = 1048576;
    public const I32 = 0;
    public const I64 = 1;
    /** kct_rt_call's statuses (see the runtime's call.rs). */
    private const OK = 1;
    private const STALE = 2;
    private const TRAP = -1;
    private const ALLOC = -2;
    /** The core's exports this bridge needs, by name, and their fields in kct_rt_warm_t. */
    private const EXPORTS = ['kct_abi_version' => 'abi_version', 'kct_buffer' => 'buffer', 'kct_free' => 'free',
        'kct_call' => 'call', 'kct_panic_message' => 'panic_message'];

    /** @var \FFI */
    private $ffi;
    /** @var string */
    private $path;
    /** @var int the runtime's instance generation when this object took its instance */
    private $generation = 0;
    /** @var mixed the runtime's kct_rt_warm_t this object took (its pointers are the runtime's, never deleted here), or null */
    private $warm;
    /** @var mixed kct_rt_answer_t: where kct_rt_call puts the answer */
    private $answer;
    private $memory;
    /** @var array<string, mixed> export name => wasm_func_t* */
    private $funcs = [];
    private $args;
    private $argVals;
    private $results;
    private $resultVals;

    public function __construct(\FFI $ffi, string $path)
    {
        $this->ffi = $ffi;
        $this->path = $path;
        $this->answer = $ffi->new('kct_rt_answer_t');
        $this->instantiate();
    }

    public function __destruct()
    {
        $this->release();
    }

    private function fail(string $state, string $message, string $fix): KCTRuntimeException
    {
        return new KCTRuntimeException(new KCTRuntimeStatus($state, $message, $fix, [$this->path]));
    }

    private function instantiate(): void
    {
        $ffi = $this->ffi;
        $warm = $ffi->new('kct_rt_warm_t');
        if ($ffi->kct_rt_instance($this->path, \FFI::addr($warm)) !== 1) {
            // FFI turns a `const char *` result into a PHP string itself.
            $why = (string) $ffi->kct_rt_last_error();
            throw $this->fail(KCTRuntimeStatus::CORE_INVALID, 'The core .wasm cannot be loaded: ' . $why . '.', 'rebuild it with "make wasm"; the core must import nothing');
        }
        $this->warm = $warm;
        $this->memory = $warm->memory;
        $this->generation = (int) $warm->generation;
        $this->funcs = [];
        foreach (self::EXPORTS as $name => $field) {
            $f = $warm->$field;
            if ($f !== null) {
                $this->funcs[$name] = $f;
            }
        }
        // The ABI first: a core of another version may well lack exports this one needs,
        // and its version is the fix to name. The runtime asked the core once, when it made
        // the instance: no guest call per request.
        $abi = isset($this->funcs['kct_abi_version']) ? (int) $warm->abi : null;
        if ($abi !== null && $abi !== KCTWasmLoader::ABI_VERSION) {
            $this->discard();
            throw $this->fail(
                KCTRuntimeStatus::ABI_MISMATCH,
                sprintf('The core .wasm speaks ABI %d; this plugin speaks ABI %d.', $abi, KCTWasmLoader::ABI_VERSION),
                'install the .wasm that shipped with this plugin version'
            );
        }
        foreach (array_keys(self::EXPORTS) as $need) {
            if (empty($this->funcs[$need])) {
                $this->discard();
                throw $this->fail(KCTRuntimeStatus::CORE_INVALID, "The core .wasm does not export $need.", 'rebuild it with "make wasm"');
            }
        }
        if ($this->memory === null) {
            $this->discard();
            throw $this->fail(KCTRuntimeStatus::CORE_INVALID, 'The core .wasm exports no memory.', 'rebuild it with "make wasm"');
        }
    }

    /** Drops the runtime's instance (after a trap, say); the next call makes a fresh one. */
    public function discard(): void
    {
        $hadInstance = $this->warm !== null;
        $this->release();
        if ($hadInstance) {
            $this->ffi->kct_rt_instance_drop($this->path);
        }
    }

    /** Lets go of this object's handles; the runtime keeps the instance for the next request. */
    private function release(): void
    {
        $this->warm = null;
        $this->memory = null;
        $this->funcs = [];
    }

    private function trapMessage($trap): string
    {
        if ($trap === null || \FFI::isNull($trap)) {
            return 'no message';
        }
        $msg = $this->ffi->new('wasm_message_t');
        $this->ffi->wasm_trap_message($trap, \FFI::addr($msg));
        $text = $msg->size > 0 ? rtrim(\FFI::string($msg->data, $msg->size), "\0") : 'no message';
        $this->ffi->wasm_byte_vec_delete(\FFI::addr($msg));
        $this->ffi->wasm_trap_delete($trap);
        return $text;
    }

    /**
     * Calls an export with i32 arguments; returns its single result (or null).
     *
     * @throws KCTCoreException on a trap, after discarding the instance
     */
    private function invoke(string $name, array $args, ?int $resultKind)
    {
        if ($this->args === null) {
            // Made on first use: a request whose calls all go through kct_rt_call (every
            // request that does not ask for the ABI or a panic message) never needs them.
            $this->args = $this->ffi->new('wasm_val_vec_t');
            $this->argVals = $this->ffi->new('wasm_val_t[2]');
            $this->args->data = \FFI::addr($this->argVals[0]);
            $this->results = $this->ffi->new('wasm_val_vec_t');
            $this->resultVals = $this->ffi->new('wasm_val_t[1]');
            $this->results->data = \FFI::addr($this->resultVals[0]);
        }
        $n = count($args);
        for ($i = 0; $i < $n; $i++) {
            $this->argVals[$i]->kind = self::I32;
            $this->argVals[$i]->of->i32 = $args[$i];
        }
        $this->args->size = $n;
        $this->results->size = $resultKind === null ? 0 : 1;
        $trap = $this->ffi->wasm_func_call($this->funcs[$name], \FFI::addr($this->args), \FFI::addr($this->results));
        if ($trap !== null) {
            $trapText = $this->trapMessage($trap);
            $panic = $name === 'kct_panic_message' ? '' : $this->panicMessage();
            $this->discard();
            throw new KCTCoreException('core_trap', 'The core trapped in ' . $name . ': ' . ($panic !== '' ? $panic : $trapText));
        }
        if ($resultKind === null) {
            return null;
        }
        return $resultKind === self::I64 ? $this->resultVals[0]->of->i64 : $this->resultVals[0]->of->i32;
    }

    /** The guest's panic message after a trap, or ''. */
    private function panicMessage(): string
    {
        try {
            $packed = $this->invoke('kct_panic_message', [], self::I64);
            return $this->read(($packed >> 32) & 0xFFFFFFFF, $packed & 0xFFFFFFFF);
        } catch (\Throwable $e) {
            return '';
        }
    }

    private function read(int $ptr, int $len): string
    {
        if ($len === 0) {
            return '';
        }
        $size = $this->ffi->wasm_memory_data_size($this->memory);
        if ($ptr <= 0 || $ptr + $len > $size) {
            throw new KCTCoreException('core_memory', "The core answered outside its memory ($ptr+$len > $size).");
        }
        return \FFI::string($this->ffi->wasm_memory_data($this->memory) + $ptr, $len);
    }

    public function abiVersion(): int
    {
        if ($this->warm === null || $this->ffi->kct_rt_pool_generation() !== $this->generation) {
            $this->release();
            $this->instantiate();
        }
        return $this->invoke('kct_abi_version', [], self::I32);
    }

    /** Sends one JSON request, returns the JSON answer text. */
    /**
     * Core calls made by this process (every instance), and the nanoseconds they took with
     * their JSON encoding and decoding: figures for tests and benchmarks (what a booking
     * costs), not state.
     *
     * @var int
     */
    public static $calls = 0;
    /** @var int */
    public static $nanos = 0;
    /** @var array<int, array{0: string, 1: int}> the latest calls (at most 32): operation, nanoseconds */
    public static $recent = [];
    /** @var int nanoseconds inside the runtime call alone (request in, guest, answer out) */
    public static $runtimeNanos = 0;

    public function callRaw(string $request): string
    {
        self::$calls++;
        $len = strlen($request);
        if ($len > self::MAX_INPUT) {
            throw new KCTCoreException('input_too_large', sprintf('request is %d bytes; the limit is %d', $len, self::MAX_INPUT));
        }
        if ($this->warm === null) {
            $this->instantiate();
        }
        // One FFI call does the whole round trip (the runtime's kct_rt_call: the request into
        // the instance's buffer, kct_call, the answer copied out and freed in the guest); PHP
        // doing each step itself cost 50 to 80 µs a call from a web request's cold caches.
        $started = hrtime(true);
        $status = $this->ffi->kct_rt_call(\FFI::addr($this->warm), $request, $len, \FFI::addr($this->answer));
        self::$runtimeNanos += hrtime(true) - $started;
        if ($status === self::STALE) {
            // The runtime made or dropped an instance since this object took its own (another
            // object's trap, a replaced .wasm): take the current one. Nothing ran.
            $this->release();
            $this->instantiate();
            $status = $this->ffi->kct_rt_call(\FFI::addr($this->warm), $request, $len, \FFI::addr($this->answer));
        }
        if ($status !== self::OK) {
            $why = (string) $this->ffi->kct_rt_last_error();
            if ($status === self::TRAP) {
                // The runtime has dropped the instance; the next call takes a fresh one.
                $this->release();
                throw new KCTCoreException('core_trap', $why);
            }
            if ($status === self::ALLOC) {
                throw new KCTCoreException('core_alloc', 'the core could not allocate the request');
            }
            if ($status === self::STALE) {
                // A fresh instance went stale before it was called: nothing ran.
                throw new KCTCoreException('core_stale', 'the runtime dropped the core instance before it could be called');
            }
            throw new KCTCoreException('core_memory', $why);
        }
        return $this->answer->size > 0 ? \FFI::string($this->answer->data, $this->answer->size) : '';
    }

    /**
     * Runs an operation. `$input` is a PHP array (an empty array is sent as {}: omit
     * optional lists rather than passing them empty).
     *
     * `$tailAt` names a text in `$input` by its keys (Zoom's answer body): when it is there,
     * it goes after the request's JSON as its tail, as it came, instead of escaped into the
     * JSON (which the core would only unescape before reading it as JSON again).
     *
     * @param string[] $tailAt
     * @return mixed the `ok` value
     * @throws KCTCoreException for an error answer
     */
    public function call(string $op, $input = [], array $tailAt = [])
    {
        $started = hrtime(true);
        try {
            return $this->timedCall($op, $input, $tailAt);
        } finally {
            $took = hrtime(true) - $started;
            self::$nanos += $took;
            self::$recent[] = [$op, $took];
            if (count(self::$recent) > 32) {
                array_shift(self::$recent);
            }
        }
    }

    private function timedCall(string $op, $input, array $tailAt)
    {
        if (is_array($input) && $input === []) {
            $input = new \stdClass();
        }
        $tail = $tailAt === [] ? null : self::takeText($input, $tailAt);
        $envelope = $tail === null ? ['op' => $op, 'input' => $input] : ['op' => $op, 'tail' => $tailAt, 'input' => $input];
        $request = json_encode($envelope, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        if ($request === false) {
            throw new KCTCoreException('input_invalid', 'the request cannot be encoded as JSON: ' . json_last_error_msg());
        }
        if ($tail !== null) {
            // A NUL never occurs in JSON text: the core takes what follows it as the tail.
            $request .= "\0" . $tail;
        }
        $answer = json_decode($this->callRaw($request), true, 512, JSON_BIGINT_AS_STRING);
        if (!is_array($answer)) {
            throw new KCTCoreException('core_answer_invalid', 'the core answered with something that is not JSON');
        }
        if (array_key_exists('ok', $answer)) {
            return $answer['ok'];
        }
        throw KCTCoreException::fromAnswer(is_array($answer['error'] ?? null) ? $answer['error'] : []);
    }

    /**
     * The text at `$path` in `$input`, left there as an empty placeholder (the core puts the
     * tail back in its place); null when the path does not lead to a text.
     *
     * @param mixed $input
     * @param string[] $path
     */
    private static function takeText(&$input, array $path): ?string
    {
        $at = &$input;
        foreach ($path as $key) {
            if (!is_array($at) || !array_key_exists($key, $at)) {
                return null;
            }
            $at = &$at[$key];
        }
        if (!is_string($at)) {
            return null;
        }
        $text = $at;
        $at = '';
        return $text;
    }

    /** `(hits << 32) | compiles` of the runtime's process-level module cache. */
    public function cacheStats(): array
    {
        $v = $this->ffi->kct_rt_cache_stats();
        return ['hits' => ($v >> 32) & 0xFFFFFFFF, 'compiles' => $v & 0xFFFFFFFF];
    }
}
