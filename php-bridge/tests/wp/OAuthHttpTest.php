<?php
use KCTApp\auth\KCTTokenStore;

/** A doctor connects Zoom over real HTTP: authorize, Zoom's consent, callback, use, disconnect. */
final class OAuthHttpTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;

    public function testConnectUseAndDisconnect(): void
    {
        $this->resetZoom();
        $admin = $this->credentials($this->makeUser('administrator'));
        $callback = getenv('KCT_WP_URL') . '/wp-json/kivicare/v1/settings/zoom-telemed/callback';
        self::zoom('app', ['client_id' => self::$clientId, 'client_secret' => self::$clientSecret, 'redirect_uri' => $callback]);
        [$status, $body] = $this->http('PUT', '/wp-json/kivicare/v1/settings/zoom-telemed',
            ['auth_type' => 'oauth', 'client_id' => self::$clientId, 'client_secret' => self::$clientSecret, 'redirect_url' => $callback], $admin);
        $this->assertSame(200, $status, json_encode($body));
        $this->assertSame('', $body['data']['client_secret'], 'secrets are never echoed');
        $this->assertTrue($body['data']['client_secret_set']);

        $doctorId = $this->makeUser('kiviCare_doctor');
        $doctor = $this->credentials($doctorId);
        [$status, $body, $headers] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/authorize', null, $doctor);
        $this->assertSame(200, $status);
        $this->assertStringStartsWith(getenv('KCT_ZOOM_URL') . '/oauth/authorize?', $body['data']['redirect_url']);
        $binder = $headers['cookies']['kct_zoom_oauth'] ?? '';
        $this->assertNotSame('', $binder, 'the browser that starts the flow keeps a binder');
        $this->assertStringContainsString('HttpOnly', $headers['set-cookie']);
        $this->assertStringContainsStringIgnoringCase('SameSite=Lax', $headers['set-cookie']);
        $this->assertStringNotContainsString($binder, $body['data']['redirect_url'], 'the binder never goes to Zoom');
        [$code, $state] = $this->consentAtZoom($body['data']['redirect_url']);
        $path = '/wp-json/kivicare/v1/settings/zoom-telemed/callback?' . http_build_query(['code' => $code, 'state' => $state]);
        $browser = ['Cookie' => 'kct_zoom_oauth=' . $binder . '; ' . $this->loggedInCookie($doctorId)];

        // Found by the abuse review: the URL opened elsewhere connected the victim doctor.
        foreach ([
            'kct_state_browser_mismatch' => ['Cookie' => $this->loggedInCookie($doctorId)],
            'kct_state_login_required' => ['Cookie' => 'kct_zoom_oauth=' . $binder],
            'kct_state_user_mismatch' => ['Cookie' => 'kct_zoom_oauth=' . $binder . '; ' . $this->loggedInCookie($this->makeUser('kiviCare_doctor'))],
        ] as $why => $cookies) {
            [$status, , $headers] = $this->http('GET', $path, null, null, $cookies);
            $this->assertSame(302, $status);
            $this->assertStringContainsString('kct_zoom_error=' . $why, $headers['location']);
            $this->assertStringStartsWith(admin_url(), $headers['location'], 'no redirect off the site');
            $this->assertSame('none', KCTTokenStore::get($doctorId, true)['state'], "$why: no token stored");
            $landed[$why] = $headers['location'];
        }
        // Found by review: the doctor's page, where the browser lands, said nothing about why.
        $page = function (string $location) use ($doctorId): string {
            [$status, , $headers] = $this->http('GET', substr($location, strlen(site_url())), null, null, ['Cookie' => $this->loggedInCookie($doctorId, true)]);
            $this->assertSame(200, $status);
            return $headers['raw'];
        };
        $this->assertStringContainsString('finished in another browser', $page($landed['kct_state_browser_mismatch']));
        $this->assertStringContainsString('started by another WordPress user', $page($landed['kct_state_user_mismatch']));
        $this->assertMatchesRegularExpression('/\(kct_zoom_invalid_client\).*Site Health/', \KCTApp\admin\KCTStatusWords::connectFailure('kct_zoom_invalid_client'), 'a code without words is named, with where to look');

        // The browser that started it, with the doctor logged in, completes it.
        [$status, , $headers] = $this->http('GET', $path, null, null, $browser);
        $this->assertSame(302, $status);
        $this->assertStringContainsString('kct_zoom=connected', $headers['location']);
        $this->assertStringContainsString('notice-success', $page($headers['location']));
        wp_cache_delete($doctorId, 'user_meta');
        $this->assertSame('ok', KCTTokenStore::get($doctorId, true)['state']);
        $this->assertSame('on', get_user_meta($doctorId, 'kiviCare_zoom_telemed_connect', true));
        $this->assertSame('zoom', get_user_meta($doctorId, 'telemed_type', true));

        [$status, , $headers] = $this->http('GET', $path, null, null, $browser);
        $this->assertStringContainsString('kct_zoom_error=kct_state_replayed', $headers['location'], 'a state works once');

        [$status, $body] = $this->http('PUT', '/wp-json/kivicare/v1/settings/zoom-telemed/test-connection', [], $doctor);
        $this->assertSame(200, $status);
        $this->assertTrue($body['data']['success'], json_encode($body));
        [, $body] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/doctor-config', null, $doctor);
        $this->assertTrue($body['data']['is_connected']);
        $this->assertSame('connected', $body['data']['connection_status']);

        [$status, $body] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/disconnect', null, $doctor);
        $this->assertSame(200, $status);
        $this->assertSame(1, self::zoomStats()['calls']['oauth.revoke'], 'revoked at Zoom');
        wp_cache_delete($doctorId, 'user_meta');
        $this->assertSame('none', KCTTokenStore::get($doctorId, true)['state'], 'local tokens deleted');
        [, $body] = $this->http('PUT', '/wp-json/kivicare/v1/settings/zoom-telemed/test-connection', [], $doctor);
        $this->assertFalse($body['data']['success']);
    }

    public function testAForgedOrForeignStateIsRefused(): void
    {
        [$status, , $headers] = $this->http('GET', '/wp-json/kivicare/v1/settings/zoom-telemed/callback?code=x&state=7');
        $this->assertSame(302, $status);
        $this->assertStringContainsString('kct_zoom=error', $headers['location']);
    }
}
