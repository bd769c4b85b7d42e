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

    private function cold(string $key): array
    {
        [$rc, $out] = $this->run_child('disk-cache-child.php', ['KCT_WASM_CACHE_DIR' => $this->dir, 'KCT_WASM_CACHE_KEY' => $key]);
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
        $spoilt = [
            'corrupt' => substr_replace($whole, chr(ord($whole[strlen($whole) - 50]) ^ 1), strlen($whole) - 50, 1),
            'truncated' => substr($whole, 0, intdiv(strlen($whole), 2)),
            'another engine' => substr_replace($whole, str_repeat("\0", 32), 40, 32),
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
