<?php
use KCTApp\wasm\KCTCore;
use KCTApp\wasm\KCTWasmLoader;
use PHPUnit\Framework\TestCase;

/**
 * Every golden vector in tests/vectors/ goes PHP -> FFI -> runtime -> .wasm and must come
 * back identical to what the Rust run recorded.
 */
final class VectorReplayTest extends TestCase
{
    /** @var KCTCore */
    private static $core;

    public static function setUpBeforeClass(): void
    {
        self::$core = KCTWasmLoader::core();
    }

    /** Objects with sorted keys, so that equal JSON compares equal as text. */
    private static function canonical($v)
    {
        if ($v instanceof \stdClass) {
            $a = get_object_vars($v);
            ksort($a, SORT_STRING);
            $o = new \stdClass();
            foreach ($a as $k => $x) {
                $o->$k = self::canonical($x);
            }
            return $o;
        }
        if (is_array($v)) {
            return array_map([self::class, 'canonical'], $v);
        }
        return $v;
    }

    private static function text($v): string
    {
        return json_encode(self::canonical($v), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
    }

    public function vectors(): array
    {
        $out = [];
        foreach (glob(dirname(__DIR__, 3) . '/tests/vectors/*.json') as $file) {
            $out[basename($file)] = [$file];
        }
        return $out;
    }

    /** @dataProvider vectors */
    public function testVectorMatchesRust(string $file): void
    {
        $case = json_decode(file_get_contents($file), false, 512, JSON_BIGINT_AS_STRING);
        $request = isset($case->raw)
            ? $case->raw
            : json_encode(['op' => $case->op, 'input' => $case->input], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        $got = json_decode(self::$core->callRaw($request), false, 512, JSON_BIGINT_AS_STRING);
        $this->assertSame(self::text($case->expected), self::text($got), basename($file) . ': ' . $case->about);
    }

    public function testThereAreEnoughVectors(): void
    {
        $this->assertGreaterThanOrEqual(60, count($this->vectors()));
    }
}
