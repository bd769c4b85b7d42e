<?php
use KCTApp\wasm\KCTCoreException;
use KCTApp\wasm\KCTZoomCore;
use PHPUnit\Framework\TestCase;

/** The typed facade: one method per core operation, and none missing or stale. */
final class FacadeTest extends TestCase
{
    public function testEveryCoreOperationHasAMethodAndNoMore(): void
    {
        $core = KCTZoomCore::load();
        $ops = array_values(array_diff($core->metaInfo()['ops'], ['debug.panic']));
        $this->assertSame($ops, array_keys(KCTZoomCore::OPS));
        foreach (KCTZoomCore::OPS as $method) {
            $this->assertTrue(method_exists($core, $method), $method);
        }
    }

    /** The bridge hands back only the headers of Zoom's answers that the core says it reads. */
    public function testTheResponseHeadersHandedBackAreTheOnesTheCoreReads(): void
    {
        $this->assertSame(KCTZoomCore::load()->metaInfo()['response_headers'], \KCTApp\zoom\KCTHttp::CORE_READS);
    }

    /**
     * The token store's list of broken states (Site Health's query) is the core's: a break
     * is told only when the state before was not broken.
     */
    public function testTheBrokenStatesTheStoreQueriesAreTheCoresOwn(): void
    {
        $core = KCTZoomCore::load();
        foreach (['connected', 'not_connected', 'reconnect_required', 'disconnected', 'deauthorized'] as $before) {
            $next = $core->connectionChange(['before' => $before, 'event' => 'deauthorized', 'stored' => 'ok']);
            $this->assertSame(!in_array($before, \KCTApp\auth\KCTTokenStore::BROKEN, true), $next['alert'], $before);
        }
    }

    public function testArraysInArraysOut(): void
    {
        $core = KCTZoomCore::load();
        $req = $core->meetingCreate([
            'auth' => ['access_token' => 't', 'api_url' => 'https://api.zoom.us'],
            'host' => 'me',
            'appointment' => ['id' => 5, 'start_unix' => 1767261600, 'duration_min' => 20, 'timezone' => 'Europe/Berlin', 'correlation_ref' => 'kc-aaaaaaaaaaaaaaaaaaaa'],
            'random' => str_repeat('7f', 16),
        ]);
        $this->assertSame('POST', $req['method']);
        $body = json_decode($req['body'], true);
        $this->assertSame('2026-01-01T10:00:00Z', $body['start_time']);
        $step = $core->lifecycleStep(['appointment_id' => 5, 'intent' => 'cancel', 'now' => 1, 'random' => str_repeat('7f', 34)]);
        $this->assertSame(['write' => null, 'effect' => ['do' => 'finish', 'result' => 'nothing']], $step);
        $this->assertSame($req, $core->run('meeting.create', [
            'auth' => ['access_token' => 't', 'api_url' => 'https://api.zoom.us'],
            'host' => 'me',
            'appointment' => ['id' => 5, 'start_unix' => 1767261600, 'duration_min' => 20, 'timezone' => 'Europe/Berlin', 'correlation_ref' => 'kc-aaaaaaaaaaaaaaaaaaaa'],
            'random' => str_repeat('7f', 16),
        ]), 'an operation named by the core runs like its method');
    }

    /** Maps with their keys sorted, at every depth: the files write keys sorted. */
    private static function sorted($v)
    {
        if (!is_array($v)) {
            return $v;
        }
        if (!array_is_list($v)) {
            ksort($v, SORT_STRING);
        }
        return array_map([self::class, 'sorted'], $v);
    }

    /** What `KCTHttp::send` hands back for a 201 with this body. */
    private static function interpretInput(string $body): array
    {
        return [
            'operation' => 'create_meeting', 'now' => 1767261000, 'random' => str_repeat('07', 8),
            'response' => ['status' => 201, 'headers' => (object) ['Content-Type' => 'application/json'], 'body' => $body],
        ];
    }

    public function testZoomsBodyGoesAsTheTailAndReadsAsIfInline(): void
    {
        $facade = KCTZoomCore::load();
        $core = \KCTApp\wasm\KCTWasmLoader::core();
        // Quotes, escapes, a slash, a line separator and non-ASCII: what escaping would touch.
        $body = '{"id": 85746065999, "join_url": "https://zoom.us/j/85746065999?pwd=x\/y", "topic": "Dr. \"Ö\" \u2028 consult", "settings": {"waiting_room": true}}';
        $input = self::interpretInput($body);
        $tailed = $facade->apiInterpret($input);
        $this->assertSame($core->call('api.interpret', $input), $tailed, 'the same answer as the body inline');
        $this->assertSame('85746065999', $tailed['result']['zoom_id']);
        $this->assertSame('Dr. "Ö" ' . "\u{2028}" . ' consult', $tailed['result']['topic']);
        $this->assertSame($body, $input['response']['body'], "the caller's input keeps its body");
    }

    public function testABodyThatIsNotUtf8ReadsAsUnreadableInsteadOfFailingTheCall(): void
    {
        $input = self::interpretInput("{\"id\": 5, \"join_url\": \"https://zoom.us/j/5\xff\"}");
        try {
            \KCTApp\wasm\KCTWasmLoader::core()->call('api.interpret', $input);
            $this->fail('JSON cannot carry this body inline');
        } catch (KCTCoreException $e) {
            $this->assertSame('input_invalid', $e->errorCode);
        }
        // As the tail, the core reads it: Zoom's answer is not JSON it can use.
        try {
            KCTZoomCore::load()->apiInterpret($input);
            $this->fail('an unreadable body is an error answer');
        } catch (KCTCoreException $e) {
            $this->assertSame('response_invalid', $e->errorCode);
        }
        // And a step whose create Zoom answered so looks for the meeting rather than failing.
        $vector = json_decode(file_get_contents(dirname(__DIR__, 3) . '/tests/vectors/lifecycle.step/create-answered-in-step.json'), true);
        $step = $vector['input'];
        $step['appointment'] = json_decode(file_get_contents(dirname(__DIR__, 3) . '/tests/vectors/_fixtures/appointment-booked.json'), true);
        $step['last']['response']['headers'] = (object) $step['last']['response']['headers'];
        $this->assertSame(self::sorted($vector['expected']['ok']), self::sorted(KCTZoomCore::load()->lifecycleStep($step)), 'the vector as PHP sends it');
        $step['last']['response']['body'] = "{\"id\": 5\xff}";
        $answer = KCTZoomCore::load()->lifecycleStep($step);
        $this->assertSame('schedule', $answer['effect']['do'] ?? null, json_encode($answer));
        $this->assertStringStartsWith('response_invalid', (string) $answer['write']['last_error']);
        $this->assertSame('ensure', $answer['write']['intent'], 'the meeting is looked for before any new create');
    }

    /**
     * The facade leaves a mapping row's null fields out of the request (the core reads them
     * as absent): every vector of an operation that takes a row answers through the facade, its
     * row with nulls, exactly as the core called with the vector's own row; the caller's row
     * keeps its nulls.
     */
    public function testARowGoesWithoutItsNullsAndAnswersAsWhole(): void
    {
        // A vector's input as the bridge hands it over (fixtures laid in, headers an object).
        require_once dirname(__DIR__, 3) . '/scripts/bench/input.php';
        $core = \KCTApp\wasm\KCTWasmLoader::core();
        $facade = KCTZoomCore::load();
        $answer = static function (callable $call) {
            try {
                return ['ok' => $call()];
            } catch (KCTCoreException $e) {
                return ['error' => [$e->errorCode, $e->getMessage()]];
            }
        };
        $checked = [];
        foreach (['lifecycle.step', 'mapping.start_link', 'mapping.apply_event'] as $op) {
            $method = KCTZoomCore::OPS[$op];
            foreach (glob(dirname(__DIR__, 3) . "/tests/vectors/$op/*.json") as $file) {
                if (!isset(json_decode((string) file_get_contents($file), true)['input'])) {
                    continue; // a raw vector
                }
                $input = kct_bench_vector_input($op, basename($file, '.json'));
                if (!is_array($input['row'] ?? null)) {
                    continue;
                }
                $whole = $answer(static function () use ($core, $op, $input) {
                    return $core->call($op, $input);
                });
                // As the repository reads a row: every field there, null where it is empty.
                $input['row'] += ['zoom_id' => null, 'meeting_state' => null, 'last_error' => null, 'next_attempt_at' => null, 'last_event_at' => null];
                $this->assertSame($whole, $answer(static function () use ($facade, $method, $input) {
                    return $facade->$method($input);
                }), "$op/" . basename($file));
                $this->assertContains(null, $input['row'], "the caller's row keeps its nulls");
                $checked[$op] = ($checked[$op] ?? 0) + 1;
            }
        }
        $this->assertCount(3, $checked, 'every operation that takes a row');
        $this->assertGreaterThanOrEqual(40, $checked['lifecycle.step']);
    }

    public function testATailPathThatNamesNoTextSendsTheInputAsItIs(): void
    {
        $core = \KCTApp\wasm\KCTWasmLoader::core();
        $input = self::interpretInput('{"id": 5, "join_url": "https://zoom.us/j/5"}');
        $plain = $core->call('api.interpret', $input);
        foreach ([['response', 'nobody'], ['response', 'status'], ['operation', 'x'], ['nothing']] as $path) {
            $this->assertSame($plain, $core->call('api.interpret', $input, $path), implode('.', $path));
        }
    }

    public function testFieldErrorsCarryTheField(): void
    {
        try {
            KCTZoomCore::load()->oauthAuthorize(['client_id' => 'a:b', 'redirect_uri' => 'https://x.org/cb', 'user_id' => 1, 'now' => 1, 'site_key' => str_repeat('k', 40), 'random' => str_repeat('00', 16)]);
            $this->fail('no error');
        } catch (KCTCoreException $e) {
            $this->assertSame('client_id_invalid', $e->errorCode);
            $this->assertSame('client_id', $e->field);
        }
    }
}
