<?php
use KCTApp\settings\KCTSettings;
use KCTApp\connection\KCTConnect;

/** Shared set-ups: the clinic's Zoom apps at the fake Zoom, and a connected doctor. */
trait KCTZoomFixtures
{
    protected static $clientId = 'kctClinicClient01';
    protected static $clientSecret = 'kctClinicSecret0123456789';

    protected function resetZoom(): void
    {
        self::zoom('reset');
    }

    protected function configureOAuth(): void
    {
        self::zoom('app', ['client_id' => self::$clientId, 'client_secret' => self::$clientSecret, 'redirect_uri' => KCTSettings::callbackUrl()]);
        $r = KCTSettings::save(['auth_type' => 'oauth', 'client_id' => self::$clientId, 'client_secret' => self::$clientSecret, 'redirect_url' => KCTSettings::callbackUrl()]);
        $this->assertTrue($r === true, is_wp_error($r) ? $r->get_error_message() : '');
    }

    protected function configureS2s(array $hosts): void
    {
        $users = [];
        foreach ($hosts as $i => $email) {
            $users[] = ['id' => 'kctS2sHost' . str_pad((string) $i, 6, '0', STR_PAD_LEFT), 'email' => $email];
        }
        self::zoom('s2s', ['client_id' => 'kctS2sClient001', 'client_secret' => 'kctS2sSecret0123456789', 'account_id' => 'kctAccount0001', 'users' => $users]);
        $r = KCTSettings::save(['auth_type' => 'server-to-server', 'client_id' => 'kctS2sClient001', 'client_secret' => 'kctS2sSecret0123456789', 'account_id' => 'kctAccount0001']);
        $this->assertTrue($r === true, is_wp_error($r) ? $r->get_error_message() : '');
    }

    /** Follows one redirect at the fake Zoom's authorize endpoint; returns [code, state]. */
    protected function consentAtZoom(string $authorizeUrl): array
    {
        $ctx = stream_context_create(['http' => ['follow_location' => 0, 'ignore_errors' => true]]);
        file_get_contents($authorizeUrl, false, $ctx);
        $location = '';
        foreach ($http_response_header as $h) {
            if (stripos($h, 'Location:') === 0) {
                $location = trim(substr($h, 9));
            }
        }
        $this->assertStringStartsWith(KCTSettings::callbackUrl(), $location, 'Zoom sends the browser to our callback');
        parse_str((string) parse_url($location, PHP_URL_QUERY), $q);
        return [$q['code'], $q['state']];
    }

    /** Connects a doctor through the real flow, in this process. */
    protected function connectDoctor(int $doctor): void
    {
        $a = KCTConnect::authorize($doctor);
        $this->assertIsArray($a);
        [$code, $state] = $this->consentAtZoom($a['url']);
        // The same browser (its binder cookie) and the same logged-in doctor come back.
        $this->assertSame($doctor, KCTConnect::callback($code, $state, $doctor, $a['binder']));
    }

    protected static function zoomMeetings(): array
    {
        $ctx = stream_context_create(['http' => ['ignore_errors' => true]]);
        return json_decode((string) file_get_contents(getenv('KCT_ZOOM_URL') . '/__admin/meetings', false, $ctx), true)['meetings'];
    }

    /**
     * The bodies of the last `$n` requests to Zoom with this method whose path ends so, newest
     * first, as the fake Zoom received them: what the addon sent, not what Zoom made of it.
     */
    protected static function zoomSent(string $method, string $pathEnd, int $n = 200): array
    {
        $log = json_decode((string) file_get_contents(getenv('KCT_ZOOM_URL') . '/__admin/requests?n=' . $n), true)['requests'];
        $hits = array_filter($log, static function ($r) use ($method, $pathEnd) {
            return $r['method'] === $method && substr($r['path'], -strlen($pathEnd)) === $pathEnd;
        });
        return array_values(array_map(static function ($r) {
            return json_decode($r['body'], true);
        }, $hits));
    }

    /**
     * Zoom delivers `$event` to the site's webhook (`KCTSettings::webhookUrl()`, plus `$query`),
     * signed with `$secret` as Zoom signs: what the fake Zoom sent and the site's answer.
     */
    protected static function deliver(string $secret, string $event, array $payload = [], array $extra = [], string $query = ''): array
    {
        return self::zoom('webhook', ['url' => KCTSettings::webhookUrl() . $query,
            'secret' => $secret, 'event' => $event, 'payload' => $payload ?: new \stdClass()] + $extra);
    }

    /**
     * Posts these headers and body to the site's webhook as they are (a captured delivery
     * again, byte for byte, or a forged one).
     *
     * @return array{0: int, 1: mixed} the status and the decoded answer
     */
    protected static function postToWebhook(array $headers, string $body): array
    {
        $lines = '';
        foreach ($headers as $k => $v) {
            $lines .= "$k: $v\r\n";
        }
        $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => $lines, 'content' => $body, 'ignore_errors' => true]]);
        $answer = file_get_contents(KCTSettings::webhookUrl(), false, $ctx);
        preg_match('#HTTP/\S+ (\d+)#', $http_response_header[0], $m);
        return [(int) $m[1], json_decode((string) $answer, true)];
    }

    protected static function zoomStats(): array
    {
        return json_decode((string) file_get_contents(getenv('KCT_ZOOM_URL') . '/__admin/stats'), true);
    }
}
