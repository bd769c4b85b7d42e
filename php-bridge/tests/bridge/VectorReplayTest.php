<?php
use KCTApp\wasm\KCTCore;
use KCTApp\wasm\KCTWasmLoader;
use PHPUnit\Framework\TestCase;

/**
 * Every golden vector in tests/vectors/<op>/ goes PHP -> FFI -> runtime -> .wasm and must
 * come back identical to what the Rust run recorded (layout and fixtures: tests/common/mod.rs).
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
        foreach (glob(self::dir() . '/*/*.json') as $file) {
            if (basename(dirname($file)) !== '_fixtures') {
                $out[basename(dirname($file)) . '/' . basename($file, '.json')] = [$file];
            }
        }
        return $out;
    }

    private static function dir(): string
    {
        return dirname(__DIR__, 3) . '/tests/vectors';
    }

    /** `{"$fixture": name, ...}`: tests/vectors/_fixtures/name.json with the other keys laid over it. */
    private static function resolve($v)
    {
        if ($v instanceof \stdClass) {
            $rest = new \stdClass();
            foreach (get_object_vars($v) as $k => $x) {
                if ($k !== '$fixture') {
                    $rest->$k = self::resolve($x);
                }
            }
            if (!isset($v->{'$fixture'})) {
                return $rest;
            }
            $base = self::resolve(json_decode(file_get_contents(self::dir() . '/_fixtures/' . $v->{'$fixture'} . '.json'), false, 512, JSON_BIGINT_AS_STRING));
            return get_object_vars($rest) === [] ? $base : self::merge($base, $rest);
        }
        return is_array($v) ? array_map([self::class, 'resolve'], $v) : $v;
    }

    private static function merge($base, $over)
    {
        if (!($base instanceof \stdClass) || !($over instanceof \stdClass)) {
            return $over;
        }
        foreach (get_object_vars($over) as $k => $x) {
            $base->$k = isset($base->$k) ? self::merge($base->$k, $x) : $x;
        }
        return $base;
    }

    /** An answer as the files write it: a request's JSON body as the JSON it is. */
    private static function filed($v)
    {
        if ($v instanceof \stdClass) {
            $request = isset($v->method, $v->url);
            foreach (get_object_vars($v) as $k => $x) {
                $decoded = $request && $k === 'body' && is_string($x) ? json_decode($x, false, 512, JSON_BIGINT_AS_STRING) : null;
                $v->$k = ($decoded instanceof \stdClass || is_array($decoded)) ? $decoded : self::filed($x);
            }
            return $v;
        }
        return is_array($v) ? array_map([self::class, 'filed'], $v) : $v;
    }

    /** @dataProvider vectors */
    public function testVectorMatchesRust(string $file): void
    {
        $case = json_decode(file_get_contents($file), false, 512, JSON_BIGINT_AS_STRING);
        $request = isset($case->raw)
            ? $case->raw
            : json_encode(['op' => basename(dirname($file)), 'input' => self::resolve($case->input)], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        $got = self::filed(json_decode(self::$core->callRaw($request), false, 512, JSON_BIGINT_AS_STRING));
        $this->assertSame(self::text($case->expected), self::text($got), basename(dirname($file)) . '/' . basename($file) . ': ' . $case->about);
    }

    public function testThereAreEnoughVectors(): void
    {
        $this->assertGreaterThanOrEqual(60, count($this->vectors()));
    }
}
