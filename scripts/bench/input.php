<?php
/** The create-meeting input every benchmark uses (the host adds `random`). */
function kct_bench_input(): array
{
    return [
        'auth' => ['access_token' => 'bench-token', 'api_url' => 'https://api.zoom.us'],
        'host' => 'dr.rao@clinic.example',
        'appointment' => ['id' => 42, 'doctor_id' => 7, 'patient_id' => 9, 'start_unix' => 1767261600,
            'duration_min' => 30, 'timezone' => 'Asia/Kolkata', 'correlation_ref' => 'kc-0123456789abcdef0123'],
        'policy' => ['alternative_hosts' => ['a@clinic.example']],
    ];
}

/**
 * A golden vector's request (tests/vectors/<op>/<name>.json) as the core takes it: its `raw`
 * bytes, or its input with each `{"$fixture": name, ...}` made that fixture with the other
 * keys laid over it.
 */
function kct_bench_vector_request(string $op, string $name): string
{
    $dir = dirname(__DIR__, 2) . '/tests/vectors';
    $resolve = static function ($v) use (&$resolve, $dir) {
        if (is_array($v)) {
            return array_map($resolve, $v);
        }
        if (!($v instanceof \stdClass)) {
            return $v;
        }
        $out = isset($v->{'$fixture'})
            ? $resolve(json_decode((string) file_get_contents("$dir/_fixtures/" . $v->{'$fixture'} . '.json'), false))
            : new \stdClass();
        foreach (get_object_vars($v) as $k => $x) {
            if ($k !== '$fixture') {
                $out->$k = $resolve($x);
            }
        }
        return $out;
    };
    $vector = json_decode((string) file_get_contents("$dir/$op/$name.json"), false);
    if (isset($vector->raw)) {
        // Sent as the bridge sends it (a Zoom body as the request's tail): byte for byte.
        return $vector->raw;
    }
    return json_encode(['op' => $op, 'input' => $resolve($vector->input)], JSON_UNESCAPED_SLASHES);
}

/**
 * A golden vector's input as the bridge hands it to the core: PHP arrays, an HTTP
 * response's headers an object (as `KCTHttp::send` makes them).
 */
function kct_bench_vector_input(string $op, string $name): array
{
    $dir = dirname(__DIR__, 2) . '/tests/vectors';
    $resolve = static function ($v) use (&$resolve, $dir) {
        if (!is_array($v)) {
            return $v;
        }
        if (isset($v['$fixture'])) {
            $base = $resolve(json_decode((string) file_get_contents("$dir/_fixtures/" . $v['$fixture'] . '.json'), true));
            unset($v['$fixture']);
            return array_replace_recursive($base, array_map($resolve, $v));
        }
        return array_map($resolve, $v);
    };
    $input = $resolve(json_decode((string) file_get_contents("$dir/$op/$name.json"), true)['input']);
    if (isset($input['last']['response']['headers'])) {
        $input['last']['response']['headers'] = (object) $input['last']['response']['headers'];
    }
    return $input;
}

/**
 * A booking's `lifecycle.step` inputs from the golden vectors, as the facade takes them:
 * `first` builds the create; `second` folds Zoom's answer into the row, with the vector's short
 * answer, and `second_full` with one as long as Zoom's own (2.9 KB: about fifty settings, the
 * dial-in numbers, a signed `zak`; what the fake Zoom and Zoom send). Null when `$facade` does
 * not answer them as a booking needs (a create to send, then an active row), so nothing is
 * timed that does other work.
 */
function kct_bench_booking_steps(\KCTApp\wasm\KCTZoomCore $facade): ?array
{
    $steps = [
        'first' => kct_bench_vector_input('lifecycle.step', 'new-booking-request-built'),
        'second' => kct_bench_vector_input('lifecycle.step', 'create-answered-in-step'),
        'second_full' => kct_bench_vector_input('lifecycle.step', 'create-answered-in-full'),
    ];
    try {
        $ok = ($facade->lifecycleStep($steps['first'])['effect']['operation'] ?? null) === 'create_meeting'
            && ($facade->lifecycleStep($steps['second'])['write']['status'] ?? null) === 'active'
            && ($facade->lifecycleStep($steps['second_full'])['write']['status'] ?? null) === 'active';
    } catch (\Throwable $e) {
        $ok = false;
    }
    return $ok ? $steps : null;
}
