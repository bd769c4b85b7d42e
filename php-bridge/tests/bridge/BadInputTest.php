<?php
use KCTApp\wasm\KCTCore;
use KCTApp\wasm\KCTCoreException;
use KCTApp\wasm\KCTRuntimeException;
use KCTApp\wasm\KCTRuntimeStatus;
use KCTApp\wasm\KCTWasmLoader;
use PHPUnit\Framework\TestCase;

/**
 * Every broken set-up or bad input is a clear, specific error, and the PHP process lives on.
 */
final class BadInputTest extends TestCase
{
    /** `token.decide`'s answer for a due token at `now` = 1: the lock's wait, and when a busy call comes back. */
    private const RENEWAL_AT_1 = ['lock_wait_s' => 10, 'busy_retry_at' => 16];
    private const REFRESH_AT_1 = ['action' => 'refresh'] + self::RENEWAL_AT_1;

    /** @var string */
    private static $tmp;

    public static function setUpBeforeClass(): void
    {
        self::$tmp = sys_get_temp_dir() . '/kct-bridge-' . getmypid();
        @mkdir(self::$tmp);
    }

    public static function tearDownAfterClass(): void
    {
        array_map('unlink', glob(self::$tmp . '/*'));
        @rmdir(self::$tmp);
    }

    private function loadError(string $wasm): KCTRuntimeException
    {
        try {
            KCTWasmLoader::core($wasm);
        } catch (KCTRuntimeException $e) {
            return $e;
        }
        $this->fail("$wasm loaded");
    }

    /** The .wasm for `fixtures/<name>.wat`, compiled by wabt's wat2wasm. */
    private function fromWat(string $name): string
    {
        $path = self::$tmp . "/$name.wasm";
        exec('wat2wasm ' . escapeshellarg(dirname(__DIR__) . "/fixtures/$name.wat") . ' -o ' . escapeshellarg($path), $out, $rc);
        $this->assertSame(0, $rc, 'wat2wasm (wabt) is needed for this test');
        return $path;
    }

    public function testCorruptWasmIsACoreInvalidStatus(): void
    {
        $path = self::$tmp . '/corrupt.wasm';
        file_put_contents($path, random_bytes(4096));
        $e = $this->loadError($path);
        $this->assertSame(KCTRuntimeStatus::CORE_INVALID, $e->status->state);
        $this->assertStringContainsString('not a valid WebAssembly module', $e->getMessage());
        $this->assertSame([$path], $e->status->tried);
    }

    public function testTruncatedWasmIsACoreInvalidStatus(): void
    {
        $real = KCTWasmLoader::corePath();
        $path = self::$tmp . '/truncated.wasm';
        file_put_contents($path, substr(file_get_contents($real), 0, intdiv(filesize($real), 2)));
        $this->assertSame(KCTRuntimeStatus::CORE_INVALID, $this->loadError($path)->status->state);
    }

    public function testMissingCoreNamesThePath(): void
    {
        $e = $this->loadError(self::$tmp . '/nope.wasm');
        $this->assertSame(KCTRuntimeStatus::CORE_INVALID, $e->status->state);
        $this->assertStringContainsString('nope.wasm', $e->getMessage());
    }

    public function testWrongAbiVersionIsRefused(): void
    {
        $e = $this->loadError($this->fromWat('wrong-abi'));
        $this->assertSame(KCTRuntimeStatus::ABI_MISMATCH, $e->status->state);
        $this->assertStringContainsString('ABI 99', $e->getMessage());
    }

    public function testACoreThatImportsIsRefusedWithTheFix(): void
    {
        $path = $this->fromWat('imports-host');
        $e = $this->loadError($path);
        $this->assertSame(KCTRuntimeStatus::CORE_INVALID, $e->status->state);
        $this->assertStringContainsString('cannot be instantiated', $e->getMessage());
        $this->assertStringContainsString('must import nothing', $e->status->fix);
        // Nothing of it was kept: asking again fails the same way.
        $this->assertSame(KCTRuntimeStatus::CORE_INVALID, $this->loadError($path)->status->state);
    }

    public function testACoreAnsweringOutsideItsMemoryIsACoreMemoryErrorAndNothingIsFreed(): void
    {
        $core = KCTWasmLoader::core($this->fromWat('answers-outside-memory'));
        for ($i = 0; $i < 2; $i++) {
            try {
                $core->callRaw('{"op":"meta.info","input":{}}');
                $this->fail('an answer outside the memory was read');
            } catch (\KCTApp\wasm\KCTCoreException $e) {
                // Its kct_free traps: had the runtime freed the bad answer, this would be a trap.
                $this->assertSame('core_memory', $e->errorCode, $e->getMessage());
                $this->assertStringContainsString('outside its memory (60000+10000 > 65536)', $e->getMessage());
            }
        }
    }

    public function testACoreThatCannotAllocateTheRequestIsACoreAllocError(): void
    {
        $core = KCTWasmLoader::core($this->fromWat('cannot-allocate'));
        try {
            $core->callRaw('{"op":"meta.info","input":{}}');
            $this->fail('the call ran without a buffer');
        } catch (\KCTApp\wasm\KCTCoreException $e) {
            // Its kct_call traps: the runtime must not run it without the request in place.
            $this->assertSame('core_alloc', $e->errorCode, $e->getMessage());
        }
    }

    /** A core that never returns is stopped by the runtime's fuel budget, not left holding the worker. */
    public function testACoreThatNeverReturnsIsStoppedByItsFuelBudgetAndTheWorkerGoesOn(): void
    {
        $core = KCTWasmLoader::core($this->fromWat('runs-forever'));
        try {
            $core->callRaw('{"op":"meta.info","input":{}}');
            $this->fail('a call that never returns came back');
        } catch (KCTCoreException $e) {
            $this->assertSame('core_trap', $e->errorCode);
            $this->assertStringContainsString('ran past its budget of 200000000 fuel units (KCT_WASM_FUEL)', $e->getMessage());
        }
        $this->assertSame(KCTWasmLoader::ABI_VERSION, KCTWasmLoader::core()->call('meta.info')['abi_version']);
    }

    /** KCT_WASM_FUEL sets the budget: a real call past it is stopped, and the next one answers. */
    public function testALoweredFuelBudgetStopsARealCallAndTheNextOneAnswers(): void
    {
        [$out, $rc] = $this->runChild('fuel-child.php', ['ffi.enable' => '1'], ['KCT_WASM_FUEL' => '1000000']);
        $this->assertSame(0, $rc, implode("\n", $out));
        $got = json_decode((string) end($out), true);
        $this->assertSame('ok', $got[0], 'a create fits the lowered budget');
        $this->assertSame(['core_trap', 'The core trapped in kct_call: the call ran past its budget of 1000000 fuel units (KCT_WASM_FUEL) and was stopped'], $got[1]);
        $this->assertSame('ok', $got[2], 'a fresh instance answers the next call');
    }

    /**
     * The interpreter's stack stays flat however long the guest runs: five million fuel units
     * of a loop, then a real create, in a 256 KB native stack (PHP-FPM's is 8 MB). The
     * instrumented build that trains the profile-guided one lost this and crashed PHP within
     * one lifecycle step (scripts/build-runtime.sh).
     */
    public function testALongCallRunsInASmallNativeStackAndIsStoppedByItsBudgetNotACrash(): void
    {
        [$out, $rc] = $this->runChild(
            'small-stack-child.php',
            ['ffi.enable' => '1'],
            ['KCT_WASM_FUEL' => '5000000'],
            stackKb: 256,
            args: [$this->fromWat('runs-forever')]
        );
        $this->assertSame(0, $rc, 'the child PHP must not die: ' . implode("\n", $out));
        $this->assertSame(['core_trap', 'POST'], json_decode((string) end($out), true));
    }

    /**
     * Runs `fixtures/<fixture>` in a child PHP with these ini settings and environment (as
     * `$user` when given, in a native stack of `$stackKb` when given), with these arguments.
     *
     * @return array{0: string[], 1: int} its output lines (stderr included) and exit status
     */
    private function runChild(string $fixture, array $ini, array $env = [], string $user = '', int $stackKb = 0, array $args = []): array
    {
        $cmd = ($user !== '' ? 'runuser -u ' . escapeshellarg($user) . ' -- ' : '') . escapeshellarg(PHP_BINARY);
        foreach ($ini as $k => $v) {
            $cmd .= ' -d ' . escapeshellarg("$k=$v");
        }
        $cmd .= ' ' . implode(' ', array_map('escapeshellarg', array_merge([dirname(__DIR__) . "/fixtures/$fixture"], $args)));
        $prefix = $stackKb > 0 ? "ulimit -s $stackKb; " : '';
        foreach ($env as $k => $v) {
            $prefix .= $k . '=' . escapeshellarg($v) . ' ';
        }
        exec($prefix . $cmd . ' 2>&1', $out, $rc);
        return [$out, $rc];
    }

    private function childStatus(array $ini, array $env = [], string $user = ''): array
    {
        [$out, $rc] = $this->runChild('status.php', $ini, $env, $user);
        $this->assertStringNotContainsString('Warning', implode("\n", $out));
        $this->assertSame(0, $rc, 'the child PHP must not die: ' . implode("\n", $out));
        $status = json_decode(end($out), true);
        $this->assertIsArray($status, implode("\n", $out));
        return $status;
    }

    public function testFfiDisabledIsAStatusWithTheIniFix(): void
    {
        $s = $this->childStatus(['ffi.enable' => '0']);
        $this->assertSame(KCTRuntimeStatus::FFI_DISABLED, $s['state']);
        $this->assertStringContainsString('ffi.enable=preload', $s['fix']);
    }

    public function testMissingLibraryNamesEveryPathTried(): void
    {
        $s = $this->childStatus([], ['KCT_WASM_RUNTIME_LIB' => self::$tmp . '/libnothing.so']);
        $this->assertSame(KCTRuntimeStatus::LIBRARY_MISSING, $s['state']);
        $this->assertSame([self::$tmp . '/libnothing.so'], $s['tried']);
    }

    public function testFfiPreloadModeUsesThePreloadedScope(): void
    {
        $header = KCTWasmLoader::libDir() . '/kct_runtime.preload.h';
        $this->assertFileExists($header, 'make runtime writes the ffi.preload header');
        $s = $this->childStatus(['ffi.enable' => 'preload', 'ffi.preload' => $header]);
        $this->assertSame(KCTRuntimeStatus::OK, $s['state'], json_encode($s));
        $this->assertSame('preloaded', $s['mode']);
    }

    public function testOpcachePreloadScriptRegistersTheScope(): void
    {
        $s = $this->childStatus([
            'opcache.enable' => '1',
            'opcache.enable_cli' => '1',
            'opcache.preload' => dirname(__DIR__, 2) . '/preload.php',
            'ffi.enable' => 'preload',
        ], [], posix_geteuid() === 0 ? 'nobody' : '');
        // As root PHP requires opcache.preload_user, which rules out FFI::load: the child
        // runs unprivileged, as a PHP-FPM master started by a service user would.
        $this->assertSame(KCTRuntimeStatus::OK, $s['state'], json_encode($s));
        $this->assertSame('preloaded', $s['mode']);
    }

    public function testHealthyChildReportsOk(): void
    {
        $this->assertSame(KCTRuntimeStatus::OK, $this->childStatus([])['state']);
    }

    public function testOversizedInputIsRefusedAndTheCoreStaysUsable(): void
    {
        $core = KCTWasmLoader::core();
        try {
            $core->callRaw(str_repeat(' ', KCTCore::MAX_INPUT + 1));
            $this->fail('oversized input accepted');
        } catch (KCTCoreException $e) {
            $this->assertSame('input_too_large', $e->errorCode);
        }
        $this->assertSame(\KCTApp\wasm\KCTWasmLoader::ABI_VERSION, $core->call('meta.info')['abi_version']);
    }

    public function testGuestPanicSurfacesItsMessageAndTheNextCallWorks(): void
    {
        $core = KCTWasmLoader::core();
        try {
            $core->call('debug.panic');
            $this->fail('no trap');
        } catch (KCTCoreException $e) {
            $this->assertSame('core_trap', $e->errorCode);
            $this->assertStringContainsString('debug.panic was called', $e->getMessage());
        }
        $this->assertSame(['action' => 'fetch'] + self::RENEWAL_AT_1, $core->call('token.decide', ['mode' => 's2s', 'now' => 1]));
    }

    public function testErrorAnswersBecomeTypedExceptions(): void
    {
        try {
            KCTWasmLoader::core()->call('meeting.create', ['host' => 'x']);
            $this->fail('no error');
        } catch (KCTCoreException $e) {
            $this->assertSame('input_invalid', $e->errorCode);
            // The first field the input lacks, by name, for a form to highlight.
            $this->assertSame('auth', $e->field);
            $this->assertStringContainsString('auth is required', $e->getMessage());
        }
        try {
            KCTWasmLoader::core()->call('settings.validate_doctor', ['auth_type' => 'x', 'client_secret' => 123456789]);
            $this->fail('no error');
        } catch (KCTCoreException $e) {
            $this->assertStringNotContainsString('123456789', $e->getMessage(), 'values never reach messages');
        }
    }

    public function testEveryAllocationIsFreed(): void
    {
        $core = KCTWasmLoader::core();
        $input = ['mode' => 'oauth', 'now' => 1, 'token' => ['access_token' => str_repeat('a', 20000), 'expires_at' => 5, 'api_url' => 'https://api.zoom.us', 'refresh_token' => 'r']];
        $core->call('token.decide', $input);
        $before = self::memorySize($core);
        for ($i = 0; $i < 2000; $i++) {
            $core->call('token.decide', $input);
        }
        $this->assertSame($before, self::memorySize($core), 'guest memory grew: an allocation leaks');
    }

    /**
     * The core serves each call from a per-call arena and spills to its general allocator
     * when a request outgrows it. A spill must not disturb later answers, and once the arena
     * has grown to fit, repeating the same mix must not grow memory again.
     */
    public function testRequestsLargerThanTheCallArenaSpillAndLaterAnswersStayExact(): void
    {
        $core = KCTWasmLoader::core();
        $dir = dirname(__DIR__, 3) . '/tests/vectors';
        $fixture = static function (string $name) use ($dir): array {
            return json_decode(file_get_contents("$dir/_fixtures/$name.json"), true);
        };
        $vector = json_decode(file_get_contents("$dir/meeting.create/default.json"), true);
        $vector['input']['appointment'] = $fixture('create-appointment');
        $vector['input']['auth'] = $fixture('zoom-auth');
        $expected = $core->call('meeting.create', $vector['input']);
        $this->assertEquals($vector['expected']['ok']['body'], json_decode($expected['body'], true));
        $big = ['mode' => 'oauth', 'now' => 1, 'token' => ['access_token' => str_repeat('b', 600000), 'expires_at' => 5, 'api_url' => 'https://api.zoom.us', 'refresh_token' => 'r']];
        $mix = function () use ($core, $big, $vector, $expected) {
            $this->assertSame(self::REFRESH_AT_1, $core->call('token.decide', $big));
            $this->assertSame($expected, $core->call('meeting.create', $vector['input']));
        };
        for ($i = 0; $i < 8; $i++) {
            $mix();
        }
        $settled = self::memorySize($core);
        for ($i = 0; $i < 20; $i++) {
            $mix();
        }
        $this->assertSame($settled, self::memorySize($core), 'guest memory kept growing with the same requests');
    }

    /**
     * Issue 14: the instance is the runtime's warm one, kept across the requests a worker
     * serves. A new core object (a new request) takes the same instance, and its requests go
     * through the instance's one buffer: five hundred objects do not grow guest memory.
     */
    public function testEachNewCoreObjectTakesTheWarmInstanceAndItsBuffer(): void
    {
        $first = KCTWasmLoader::core();
        $first->call('meta.info');
        $generation = self::generation($first);
        $request = ['mode' => 'oauth', 'now' => 1, 'token' => ['access_token' => str_repeat('c', 20000), 'expires_at' => 5, 'api_url' => 'https://api.zoom.us', 'refresh_token' => 'r']];
        $first->call('token.decide', $request);
        $settled = self::memorySize($first);
        for ($i = 0; $i < 500; $i++) {
            $core = KCTWasmLoader::core();
            $this->assertSame(self::REFRESH_AT_1, $core->call('token.decide', $request));
            $this->assertSame($generation, self::generation($core), 'a fresh instance was made');
        }
        $this->assertSame($settled, self::memorySize($core), 'each object left a buffer behind');
    }

    /**
     * After a trap the runtime drops the instance; another object that held it takes the
     * new one at its next call instead of calling what was dropped.
     */
    public function testATrapInOneCoreObjectLeavesTheOthersWorking(): void
    {
        $a = KCTWasmLoader::core();
        $b = KCTWasmLoader::core();
        $this->assertSame(self::generation($a), self::generation($b), 'both hold the warm instance');
        try {
            $a->call('debug.panic');
            $this->fail('debug.panic did not trap');
        } catch (KCTCoreException $e) {
            $this->assertSame('core_trap', $e->errorCode);
        }
        $this->assertSame(KCTWasmLoader::ABI_VERSION, $b->call('meta.info')['abi_version']);
        $this->assertSame(KCTWasmLoader::ABI_VERSION, $a->call('meta.info')['abi_version']);
        $this->assertSame(self::generation($a), self::generation($b), 'both moved to the new instance');
    }

    /**
     * Two core objects on the one warm instance: when one grows the request buffer (moving
     * it), the other must not write into the old one, which the guest has freed (its heap
     * would be corrupted). Every answer stays exact through growth and spills.
     */
    public function testCoreObjectsSharingTheInstanceNeverWriteIntoAMovedBuffer(): void
    {
        $small = KCTWasmLoader::core();
        $large = KCTWasmLoader::core();
        $request = static function (int $size): array {
            return ['mode' => 'oauth', 'now' => 1, 'token' => ['access_token' => str_repeat('t', $size), 'expires_at' => 5, 'api_url' => 'https://api.zoom.us', 'refresh_token' => 'r']];
        };
        $this->assertSame(self::REFRESH_AT_1, $small->call('token.decide', $request(100)));
        foreach ([9000, 70000, 300000, 900000] as $i => $size) {
            $this->assertSame(self::REFRESH_AT_1, $large->call('token.decide', $request($size)), "large $i");
            for ($k = 0; $k < 3; $k++) {
                $this->assertSame(self::REFRESH_AT_1, $small->call('token.decide', $request(100 + 500 * $k)), "small after large $i");
            }
        }
        $this->assertSame(KCTWasmLoader::ABI_VERSION, $small->call('meta.info')['abi_version']);
    }

    private static function generation(KCTCore $core): int
    {
        $r = new \ReflectionProperty(KCTCore::class, 'generation');
        $r->setAccessible(true);
        return $r->getValue($core);
    }

    private static function memorySize(KCTCore $core): int
    {
        $r = new \ReflectionProperty(KCTCore::class, 'memory');
        $r->setAccessible(true);
        $f = new \ReflectionProperty(KCTCore::class, 'ffi');
        $f->setAccessible(true);
        return $f->getValue($core)->wasm_memory_data_size($r->getValue($core));
    }

    public function testTheProcessCacheCompilesTheCoreOnce(): void
    {
        $a = KCTWasmLoader::core();
        $before = $a->cacheStats();
        $b = KCTWasmLoader::core();
        $c = KCTWasmLoader::core();
        $after = $c->cacheStats();
        $this->assertSame($before['compiles'], $after['compiles']);
        $this->assertSame($before['hits'] + 2, $after['hits']);
        $this->assertSame(KCTWasmLoader::ABI_VERSION, $b->abiVersion());
    }

    /**
     * The cache trusts a file's stamp only while its inode and change time hold: a core
     * replaced in place, same size and same mtime (as `rsync -t` leaves it), is read again.
     */
    public function testACoreReplacedWithTheSameSizeAndMtimeIsReadAgain(): void
    {
        $path = sys_get_temp_dir() . '/kct-replaced-' . getmypid() . '.wasm';
        $bytes = file_get_contents(KCTWasmLoader::corePath());
        $at = strpos($bytes, 'unknown operation');
        $this->assertNotFalse($at);
        file_put_contents($path, $bytes);
        $mtime = filemtime($path);
        touch($path, $mtime); // whole seconds, so the replacement can carry the very same mtime
        try {
            $first = KCTWasmLoader::core($path);
            $this->assertStringContainsString('unknown operation', self::unknownOp($first));
            $compiles = $first->cacheStats()['compiles'];
            usleep(20000);
            file_put_contents($path . '.new', substr_replace($bytes, 'UNKNOWN operation', $at, 17));
            rename($path . '.new', $path);
            touch($path, $mtime);
            clearstatcache();
            $this->assertSame(strlen($bytes), filesize($path));
            $this->assertSame($mtime, filemtime($path));
            $second = KCTWasmLoader::core($path);
            $this->assertSame($compiles + 1, $second->cacheStats()['compiles'], 'compiled again');
            $this->assertStringContainsString('UNKNOWN operation', self::unknownOp($second), 'the new content runs');
        } finally {
            @unlink($path);
        }
    }

    private static function unknownOp(KCTCore $core): string
    {
        try {
            $core->call('no.such.op', []);
        } catch (\KCTApp\wasm\KCTCoreException $e) {
            return $e->getMessage();
        }
        return '';
    }
}
