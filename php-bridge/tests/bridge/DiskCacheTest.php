<?php
use PHPUnit\Framework\TestCase;

/**
 * Issue 14: wasmtime's compiled core kept on disk between PHP processes, trusted only when
 * it is ours and whole; wasmi (which translates lazily) keeps nothing. And the runtime's
 * signal handling leaves PHP's own timeout to PHP. Each case runs in fresh child processes,
 * on the runtime library this suite was given (make test-bridge: wasmi; make test-wasmtime).
 */
final class DiskCacheTest extends TestCase
{
    private string $dir = '';

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/kct-disk-' . bin2hex(random_bytes(4));
        mkdir($this->dir);
    }

    protected function tearDown(): void
    {
        foreach (glob($this->dir . '/{,.}*', GLOB_BRACE) ?: [] as $f) {
            if (is_file($f)) {
                unlink($f);
            }
        }
        rmdir($this->dir);
    }

    private function run_child(string $script, array $env = []): array
    {
        $prefix = '';
        foreach ($env + array_filter(['KCT_WASM_RUNTIME_LIB' => (string) getenv('KCT_WASM_RUNTIME_LIB')]) as $k => $v) {
            $prefix .= $k . '=' . escapeshellarg($v) . ' ';
        }
        exec($prefix . escapeshellarg(PHP_BINARY) . ' -d ffi.enable=1 ' . escapeshellarg(dirname(__DIR__) . "/fixtures/$script") . ' 2>&1', $out, $rc);
        return [$rc, $out];
    }

    private function cold(string $key, array $env = []): array
    {
        [$rc, $out] = $this->run_child('disk-cache-child.php', $env + ['KCT_WASM_CACHE_DIR' => $this->dir, 'KCT_WASM_CACHE_KEY' => $key]);
        $this->assertSame(0, $rc, implode("\n", $out));
        $r = json_decode((string) end($out), true);
        $this->assertIsArray($r, implode("\n", $out));
        return $r;
    }

    private function cached(): string
    {
        $files = glob($this->dir . '/*.cwasm') ?: [];
        $this->assertCount(1, $files, 'one compiled core on disk');
        return $files[0];
    }

    public function testTheCompiledCoreIsKeptSignedAndRebuiltWhenItIsNotOurs(): void
    {
        $key = str_repeat('5a', 32);
        $first = $this->cold($key);
        if ($first['keeps'] === 0) {
            // wasmi: nothing compiled ahead, nothing written, nothing read.
            $this->assertSame([0, 0, 0], [$first['loaded'], $first['written'], $first['rejected']]);
            $this->assertSame([], glob($this->dir . '/*.cwasm'));
            return;
        }
        $this->assertSame([0, 1, 0], [$first['loaded'], $first['written'], $first['rejected']], 'compiled once and written');
        $file = $this->cached();
        $this->assertFileExists($this->dir . '/.htaccess');

        $second = $this->cold($key);
        $this->assertSame([1, 0, 0], [$second['loaded'], $second['written'], $second['rejected']], 'a new process reads it back');
        $this->assertSame(0, $second['compiles'], 'and compiles nothing');

        $whole = (string) file_get_contents($file);
        // The compiled core, then 112 bytes of checks: magic, the .wasm's hash, the engine's,
        // the length, the MAC.
        $checks = strlen($whole) - 112;
        $spoilt = [
            'corrupt' => substr_replace($whole, chr(ord($whole[1000]) ^ 1), 1000, 1),
            'truncated' => substr($whole, 0, intdiv(strlen($whole), 2)),
            'another engine' => substr_replace($whole, str_repeat("\0", 32), $checks + 40, 32),
            'an older format' => substr_replace($whole, "KCTCWM2\n", $checks, 8),
            'empty' => '',
        ];
        foreach ($spoilt as $what => $bytes) {
            file_put_contents($file, $bytes);
            $r = $this->cold($key);
            $this->assertSame([0, 1, 1], [$r['loaded'], $r['written'], $r['rejected']], "$what: refused, compiled and written again");
            $this->assertSame($whole === (string) file_get_contents($this->cached()), strlen($whole) > 0, $what);
        }
        // Signed under another site's key: foreign, refused.
        $r = $this->cold(str_repeat('a5', 32));
        $this->assertSame([0, 1, 1], [$r['loaded'], $r['written'], $r['rejected']], 'foreign: refused and rebuilt');
    }

    public function testANewProcessTakesTheCoresHashFromItsNoteUntilTheFileChanges(): void
    {
        $key = str_repeat('5a', 32);
        $core = $this->dir . '/core.wasm';
        copy((string) \KCTApp\wasm\KCTWasmLoader::corePath(), $core);
        $env = ['KCT_WASM_CORE' => $core];
        $notes = fn () => glob($this->dir . '/*.note') ?: [];

        $first = $this->cold($key, $env);
        $this->assertSame(1, $first['wasm_reads'], 'a new process reads and hashes its .wasm');
        if ($first['keeps'] === 0) {
            $this->assertSame([], $notes(), 'wasmi keeps nothing on disk, no note either');
            return;
        }
        $this->assertSame([], $notes(), 'a file changed moments ago has no note yet: a change in the same clock tick would not move its stamp');

        sleep(2);
        $this->assertSame(1, $this->cold($key, $env)['wasm_reads'], 'settled, but no note yet: read');
        $this->assertCount(1, $notes(), 'and noted');
        $r = $this->cold($key, $env);
        $this->assertSame([0, 1, 0], [$r['wasm_reads'], $r['loaded'], $r['compiles']], 'the next process takes the hash from the note and loads the compiled core');

        $note = $notes()[0];
        $good = (string) file_get_contents($note);
        foreach (['the hash' => 70, 'the MAC' => strlen($good) - 1] as $what => $at) {
            file_put_contents($note, substr_replace($good, chr(ord($good[$at]) ^ 1), $at, 1));
            $r = $this->cold($key, $env);
            $this->assertSame([1, 1, 0], [$r['wasm_reads'], $r['loaded'], $r['compiles']], "a note with $what changed is not ours: the .wasm is read");
            $this->assertSame($good, (string) file_get_contents($note), "$what: the note is written again");
        }
        $r = $this->cold(str_repeat('a5', 32), $env);
        $this->assertSame(1, $r['wasm_reads'], 'a note signed under another site\'s key is not ours');
        file_put_contents($note, $good);
        $this->cold($key, $env);

        // Replaced by a copy (a new inode): read again, the same compiled core still serves.
        copy($core, "$core.new");
        rename("$core.new", $core);
        $r = $this->cold($key, $env);
        $this->assertSame([1, 1, 0], [$r['wasm_reads'], $r['loaded'], $r['compiles']], 'a replaced .wasm is read again');

        // Rewritten in place with its size and mtime put back: the change time still moves.
        sleep(2);
        $this->cold($key, $env);
        $this->assertSame(0, $this->cold($key, $env)['wasm_reads'], 'noted again');
        $mtime = filemtime($core);
        $h = fopen($core, 'r+');
        fwrite($h, (string) file_get_contents($core, false, null, 0, 1));
        fclose($h);
        touch($core, $mtime);
        clearstatcache();
        $this->assertSame($mtime, filemtime($core));
        $this->assertSame(1, $this->cold($key, $env)['wasm_reads'], 'a .wasm rewritten in place is read again');
    }

    public function testWritingACompiledCoreRemovesTheOnesLeftUntouchedForAnHour(): void
    {
        $old = time() - 7200;
        $files = [
            'an earlier version' => ['kct-core-00000000000000000000000000000000.cwasm', $old],
            'a half-written file' => ['kct-core-00000000000000000000000000000000.tmp4242', $old],
            'another version in use' => ['kct-core-11111111111111111111111111111111.cwasm', time()],
            'someone else\'s' => ['notes.cwasm', $old],
        ];
        foreach ($files as [$name, $mtime]) {
            file_put_contents("$this->dir/$name", 'x');
            touch("$this->dir/$name", $mtime);
        }
        $r = $this->cold(str_repeat('5a', 32));
        clearstatcache();
        if ($r['keeps'] === 0) {
            foreach ($files as $what => [$name]) {
                $this->assertFileExists("$this->dir/$name", "wasmi writes nothing and removes nothing: $what");
            }
            return;
        }
        $this->assertSame(1, $r['written']);
        $this->assertFileDoesNotExist("$this->dir/{$files['an earlier version'][0]}", 'an earlier compiled core goes');
        $this->assertFileDoesNotExist("$this->dir/{$files['a half-written file'][0]}", 'so does a dead process\'s half-written file');
        $this->assertFileExists("$this->dir/{$files['another version in use'][0]}", 'a recent one stays');
        $this->assertFileExists("$this->dir/{$files['someone else\'s'][0]}", 'files not ours stay');
        $this->assertCount(2, glob("$this->dir/kct-core-*.cwasm") ?: [], 'the new one and the recent one');
    }

    public function testAGuestTrapLeavesPhpsOwnTimeoutToPhp(): void
    {
        [$rc, $out] = $this->run_child('trap-then-timeout.php');
        $text = implode("\n", $out);
        $this->assertStringContainsString('trapped: KCTApp\wasm\KCTCoreException', $text);
        $this->assertStringContainsString('after the trap: ' . \KCTApp\wasm\KCTWasmLoader::ABI_VERSION, $text);
        $this->assertStringContainsString('Maximum execution time of 1 second exceeded', $text, 'PHP\'s timer fired and PHP handled it');
        $this->assertStringNotContainsString('the timeout never came', $text);
        $this->assertSame(255, $rc, 'a PHP fatal error, not a signal: ' . $text);
    }
}
