<?php
use PHPUnit\Framework\TestCase;

/**
 * In-process WordPress tests: each test runs in a database transaction that is rolled back,
 * with a flushed object cache and no current user. DDL commits implicitly in MariaDB: tests
 * that need it use KCTHttpTestCase, which cleans up after itself instead.
 */
abstract class KCTWPTestCase extends TestCase
{
    protected $backupGlobals = false;

    protected function setUp(): void
    {
        global $wpdb;
        // Read committed: the plugin writes tokens through a second connection (KCTSideDb),
        // which this rolled-back transaction must see and must not block with gap locks.
        $wpdb->query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        $wpdb->query('START TRANSACTION');
        wp_cache_flush();
        wp_set_current_user(0);
    }

    /** @var array[]|null mails sent while capturing (never delivered), see captureMails() */
    protected $mails;

    protected function tearDown(): void
    {
        global $wpdb;
        if ($this->mails !== null) {
            remove_filter('pre_wp_mail', [$this, 'keepMail'], 10);
            $this->mails = null;
        }
        $wpdb->query('ROLLBACK');
        wp_cache_flush();
        wp_set_current_user(0);
    }

    protected function makeUser(string $role, array $extra = []): int
    {
        if (!get_role($role)) {
            add_role($role, $role, ['read' => true]);
        }
        $login = $role . '_' . wp_generate_password(8, false);
        $id = wp_insert_user(array_merge([
            'user_login' => $login,
            'user_email' => $login . '@example.org',
            'user_pass' => wp_generate_password(20),
            'role' => $role,
        ], $extra));
        $this->assertIsInt($id, is_wp_error($id) ? $id->get_error_message() : '');
        return $id;
    }

    protected function actAs(int $userId): void
    {
        wp_set_current_user($userId);
    }

    /** In-process REST request, as the current user. */
    protected function rest(string $method, string $route, array $params = []): \WP_REST_Response
    {
        $request = new \WP_REST_Request($method, $route);
        foreach ($params as $k => $v) {
            $request->set_param($k, $v);
        }
        return rest_ensure_response(rest_do_request($request));
    }

    /**
     * Runs the due cron events of this plugin (hooks `kct_*`), or of one hook: WP-Cron is off in
     * the test bed, and WordPress's own events (update checks) would reach for the network.
     */
    protected function runDueCron(?string $only = null): int
    {
        $ran = 0;
        foreach ((array) _get_cron_array() as $time => $hooks) {
            if ($time > time()) {
                continue;
            }
            foreach ($hooks as $hook => $events) {
                if ($only !== null ? $hook !== $only : strncmp($hook, 'kct_', 4) !== 0) {
                    continue;
                }
                foreach ($events as $event) {
                    wp_unschedule_event($time, $hook, $event['args']);
                    do_action_ref_array($hook, $event['args']);
                    $ran++;
                }
            }
        }
        return $ran;
    }

    /** Makes every queued resume due now and runs them: the queue's retries, without waiting. */
    protected function runQueue(): int
    {
        global $wpdb;
        $t = \KCTApp\meetings\KCTMappingRepository::table();
        $wpdb->query($wpdb->prepare("UPDATE $t SET next_attempt_at = %s, version = version + 1 WHERE next_attempt_at IS NOT NULL", gmdate('Y-m-d H:i:s', time() - 1)));
        foreach ((array) _get_cron_array() as $time => $hooks) {
            foreach ($hooks[\KCTApp\meetings\KCTQueue::HOOK] ?? [] as $event) {
                wp_unschedule_event($time, \KCTApp\meetings\KCTQueue::HOOK, $event['args']);
                wp_schedule_single_event(time() - 1, \KCTApp\meetings\KCTQueue::HOOK, $event['args']);
            }
        }
        return $this->runDueCron(\KCTApp\meetings\KCTQueue::HOOK);
    }

    /** From now until the test ends, mails are kept in $this->mails instead of sent. */
    protected function captureMails(): void
    {
        $this->mails = [];
        add_filter('pre_wp_mail', [$this, 'keepMail'], 10, 2);
    }

    public function keepMail($short, $atts)
    {
        $this->mails[] = $atts;
        return true;
    }

    /** @return array[] the captured mails to a user */
    protected function mailsTo(int $user): array
    {
        $email = get_userdata($user)->user_email;
        return array_values(array_filter((array) $this->mails, static function ($m) use ($email) {
            return in_array($email, (array) $m['to'], true);
        }));
    }

    /**
     * Forgets what wpdb learnt about tables' columns, as a new request starts without it
     * (the test process keeps one wpdb for every test).
     */
    protected static function forgetColumnMeta(): void
    {
        global $wpdb;
        foreach (['col_meta', 'table_charset'] as $cache) {
            $p = new \ReflectionProperty(\wpdb::class, $cache);
            $p->setAccessible(true);
            $p->setValue($wpdb, []);
        }
    }

    /** Forgets this process's loaded core, so the next use loads it again. */
    protected static function forgetCore(): void
    {
        $access = new \ReflectionProperty(\KCTApp\zoom\KCTCoreAccess::class, 'core');
        $access->setAccessible(true);
        $access->setValue(null, null);
    }

    /** Runs `$fn` as on a server whose core .wasm cannot be found, then loads it again. */
    protected static function withoutRuntime(callable $fn)
    {
        putenv('KCT_WASM_CORE=/nonexistent/kc_telemed.wasm');
        self::forgetCore();
        try {
            return $fn();
        } finally {
            putenv('KCT_WASM_CORE');
            self::forgetCore();
        }
    }

    /** The fake Zoom's admin endpoint. */
    protected static function zoom(string $what, array $body = [], string $method = 'POST'): array
    {
        $ctx = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\n",
            'content' => json_encode($body ?: new \stdClass()),
            'ignore_errors' => true,
        ]]);
        $out = file_get_contents(getenv('KCT_ZOOM_URL') . '/__admin/' . $what, false, $ctx);
        return json_decode((string) $out, true) ?: [];
    }
}
