<?php
/**
 * Tests that go over real HTTP to the test bed's web server (another PHP process, another
 * database connection): their data must be committed, so no transaction; every user made
 * here is deleted afterwards, with anything of theirs a deletion keeps.
 */
abstract class KCTHttpTestCase extends KCTWPTestCase
{
    /** @var int[] */
    private $made = [];

    protected function setUp(): void
    {
        wp_cache_flush();
        wp_set_current_user(0);
    }

    protected function tearDown(): void
    {
        global $wpdb;
        foreach ($this->made as $id) {
            wp_delete_user($id);
            // A deleted doctor's Zoom data may be kept for their meetings: not past a test.
            $wpdb->delete($wpdb->usermeta, ['user_id' => $id]);
        }
        delete_option(\KCTApp\connection\KCTDepartedDoctors::OPTION);
        $this->made = [];
        wp_cache_flush();
        wp_set_current_user(0);
    }

    protected function makeUser(string $role, array $extra = []): int
    {
        $id = parent::makeUser($role, $extra);
        $this->made[] = $id;
        return $id;
    }

    /**
     * The cookies a browser holds once the user has logged in (a real session token): the
     * logged-in cookie sent everywhere, and with `$wpAdmin` the auth cookie wp-admin reads.
     */
    protected function loggedInCookie(int $userId, bool $wpAdmin = false): string
    {
        $expires = time() + HOUR_IN_SECONDS;
        $token = \WP_Session_Tokens::get_instance($userId)->create($expires);
        $cookie = LOGGED_IN_COOKIE . '=' . rawurlencode(wp_generate_auth_cookie($userId, $expires, 'logged_in', $token));
        return $wpAdmin ? AUTH_COOKIE . '=' . rawurlencode(wp_generate_auth_cookie($userId, $expires, 'auth', $token)) . '; ' . $cookie : $cookie;
    }

    /** Basic credentials (an application password) for a user. */
    protected function credentials(int $userId): array
    {
        [$password] = \WP_Application_Passwords::create_new_application_password($userId, ['name' => 'kct-tests']);
        return [get_userdata($userId)->user_login, $password];
    }

    /**
     * A real HTTP request to the test bed. Returns [status, decoded body, headers (and `raw`: the body as it came)].
     *
     * @param array|null $auth [login, application password]
     */
    protected function http(string $method, string $path, $body = null, ?array $auth = null, array $headers = []): array
    {
        $h = array_merge(['Content-Type' => 'application/json'], $headers);
        if ($auth !== null) {
            $h['Authorization'] = 'Basic ' . base64_encode($auth[0] . ':' . $auth[1]);
        }
        $lines = '';
        foreach ($h as $k => $v) {
            $lines .= "$k: $v\r\n";
        }
        $ctx = stream_context_create(['http' => [
            'method' => $method,
            'header' => $lines,
            'content' => $body === null ? '' : (is_string($body) ? $body : json_encode($body)),
            'ignore_errors' => true,
            'follow_location' => 0,
            'timeout' => 30,
        ]]);
        $raw = file_get_contents(getenv('KCT_WP_URL') . $path, false, $ctx);
        $status = 0;
        $out = [];
        foreach ($http_response_header ?? [] as $line) {
            if (preg_match('#^HTTP/\S+ (\d+)#', $line, $m)) {
                $status = (int) $m[1];
            } elseif (strpos($line, ':') !== false) {
                [$k, $v] = explode(':', $line, 2);
                $out[strtolower(trim($k))] = trim($v);
                if (strtolower(trim($k)) === 'set-cookie') {
                    [$pair] = explode(';', trim($v), 2);
                    [$name, $value] = array_pad(explode('=', $pair, 2), 2, '');
                    $out['cookies'][$name] = $value;
                }
            }
        }
        // The body as it came, for a page that is not JSON.
        $out['raw'] = (string) $raw;
        return [$status, json_decode((string) $raw, true), $out];
    }
}
