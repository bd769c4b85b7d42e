<?php
use KCTApp\auth\KCTTokenStore;
use KCTApp\connection\KCTConnect;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\telemed\KCTAppointmentFacts;

/** Zoom's webhooks over real HTTP, signed by the fake Zoom exactly as Zoom signs them. */
final class WebhookTest extends KCTHttpTestCase
{
    use KCTZoomFixtures;
    use KCTKiviCareFixtures;

    /** Sends a captured delivery again, byte for byte: [status, body]. */
    private function replay(array $sent): array
    {
        return self::postToWebhook($sent['headers'], $sent['sent']);
    }

    private function liveMeeting(int $id): array
    {
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $row = $this->ensureMeeting(['appointment_id' => $id, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']);
        $this->assertIsArray($row);
        return $row;
    }

    /** The status screen lists the latest deliveries (event, meeting), and never a link or a secret. */
    public function testDeliveriesAreListedOnTheStatusScreenWithoutSecrets(): void
    {
        $row = $this->liveMeeting(770009);
        $sent = self::deliver('kctWebhookSecret0123456', 'meeting.started', ['object' => ['id' => (int) $row['zoom_id']]]);
        $this->assertSame(200, $sent['status']);
        wp_set_current_user($this->makeUser('administrator'));
        $status = \KCTApp\admin\KCTStatusScreen::data(time());
        $listed = array_values(array_filter($status['webhooks'], static function ($d) use ($row) {
            return $d['meeting_id'] === (string) $row['zoom_id'];
        }));
        $this->assertCount(1, $listed, 'the delivery is listed with its meeting');
        $this->assertSame('meeting_started', $listed[0]['event']);
        ob_start();
        \KCTApp\admin\KCTStatusScreen::render();
        $page = (string) ob_get_clean();
        $this->assertStringContainsString((string) $row['zoom_id'], $page);
        $this->assertStringContainsString('<td>meeting started</td>', $page, 'the event in words');
        foreach ([$row['start_url'], $row['join_url'], 'zak=', 'kctWebhookSecret0123456', self::$clientSecret] as $secret) {
            $this->assertStringNotContainsString($secret, wp_json_encode($status));
            $this->assertStringNotContainsString($secret, $page);
        }
    }

    /** Found by the abuse review: a replayed "started" put an ended meeting back to started. */
    public function testAnExactReplayChangesNothing(): void
    {
        $row = $this->liveMeeting(770002);
        try {
            $object = ['object' => ['id' => (int) $row['zoom_id']]];
            $started = self::deliver('kctWebhookSecret0123456', 'meeting.started', $object);
            $this->assertSame(200, $started['status']);
            $this->assertSame(200, self::deliver('kctWebhookSecret0123456', 'meeting.ended', $object)['status']);
            $this->assertSame('ended', KCTMappingRepository::find(770002)['meeting_state']);
            [$status, $body] = $this->replay($started);
            $this->assertSame(200, $status, 'acknowledged, so Zoom does not retry');
            $this->assertTrue($body['data']['replay']);
            $this->assertSame('ended', KCTMappingRepository::find(770002)['meeting_state'], 'the replay changed nothing');
        } finally {
            KCTMappingRepository::delete(770002);
        }
    }

    public function testAnOlderEventDoesNotUndoANewerOne(): void
    {
        $row = $this->liveMeeting(770003);
        try {
            $object = ['object' => ['id' => (int) $row['zoom_id']]];
            $now = time() * 1000;
            $this->assertSame(200, self::deliver('kctWebhookSecret0123456', 'meeting.ended', $object, ['event_ts' => $now])['status']);
            $late = self::deliver('kctWebhookSecret0123456', 'meeting.started', $object, ['event_ts' => $now - 60000]);
            $this->assertSame(200, $late['status']);
            $this->assertSame('ended', KCTMappingRepository::find(770003)['meeting_state'], 'a late "started" is ignored');
        } finally {
            KCTMappingRepository::delete(770003);
        }
    }

    /** A meeting deleted in Zoom while KiviCare still has the appointment booked is made again. */
    public function testAMeetingDeletedInZoomIsMadeAgain(): void
    {
        $row = $this->liveMeeting(770005);
        try {
            $this->assertSame(200, self::deliver('kctWebhookSecret0123456', 'meeting.deleted', ['object' => ['id' => (int) $row['zoom_id']]])['status']);
            $now = KCTMappingRepository::find(770005);
            $this->assertTrue(KCTMappingRepository::isLive($now), json_encode($now));
            $this->assertNotSame($row['zoom_id'], $now['zoom_id'], 'a new meeting');
        } finally {
            KCTMappingRepository::delete(770005);
        }
    }

    public function testThePreviousSecretExpiresADayAfterARotation(): void
    {
        $row = $this->liveMeeting(770004);
        try {
            $object = ['object' => ['id' => (int) $row['zoom_id']]];
            $before = time();
            $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecretNew01234']));
            $stored = get_option(KCTSettings::OPTION);
            $this->assertGreaterThanOrEqual($before, $stored['webhook_secret_rotated_at'], 'the rotation is dated, and only dated');
            $this->assertArrayNotHasKey('webhook_secret_previous_until', $stored);
            $this->assertSame(200, self::deliver('kctWebhookSecret0123456', 'meeting.started', $object)['status'], 'still valid after the rotation');
            $stored['webhook_secret_rotated_at'] = time() - DAY_IN_SECONDS + 120;
            update_option(KCTSettings::OPTION, $stored, false);
            $this->assertSame(200, self::deliver('kctWebhookSecret0123456', 'meeting.started', $object)['status'], 'valid until the day is over');
            $stored['webhook_secret_rotated_at'] = time() - DAY_IN_SECONDS;
            update_option(KCTSettings::OPTION, $stored, false);
            $this->assertSame(401, self::deliver('kctWebhookSecret0123456', 'meeting.ended', $object)['status'], 'a day later it is refused');
            $this->assertSame('started', KCTMappingRepository::find(770004)['meeting_state']);
            $this->assertSame(200, self::deliver('kctWebhookSecretNew01234', 'meeting.ended', $object)['status']);
        } finally {
            KCTMappingRepository::delete(770004);
        }
    }

    /**
     * Settings saved by an earlier version hold when the previous secret stops verifying;
     * migration 7 turns that into when the rotation happened, so a rotation in progress
     * keeps its day and one that is over stays over.
     */
    public function testARotationSavedByAnEarlierVersionKeepsItsDay(): void
    {
        $row = $this->liveMeeting(770006);
        $oldFormat = static function (int $until): void {
            $stored = get_option(KCTSettings::OPTION);
            unset($stored['webhook_secret_rotated_at']);
            $stored['webhook_secret_previous_until'] = $until;
            update_option(KCTSettings::OPTION, $stored);
            (new \KCTApp\database\migrations\KCTMigration0007WebhookRotationDate())->up();
        };
        try {
            $object = ['object' => ['id' => (int) $row['zoom_id']]];
            $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecretNew01234']));
            $until = time() + HOUR_IN_SECONDS;
            $oldFormat($until);
            $stored = get_option(KCTSettings::OPTION);
            $this->assertSame($until - DAY_IN_SECONDS, $stored['webhook_secret_rotated_at']);
            $this->assertArrayNotHasKey('webhook_secret_previous_until', $stored);
            (new \KCTApp\database\migrations\KCTMigration0007WebhookRotationDate())->up();
            $this->assertSame($stored, get_option(KCTSettings::OPTION), 'a second run changes nothing');
            $this->assertSame(200, self::deliver('kctWebhookSecret0123456', 'meeting.started', $object)['status'], 'the hour left still counts');

            $oldFormat(time() - 1);
            $this->assertSame(401, self::deliver('kctWebhookSecret0123456', 'meeting.ended', $object)['status'], 'an ended rotation stays ended');
            $this->assertSame(200, self::deliver('kctWebhookSecretNew01234', 'meeting.ended', $object)['status']);
        } finally {
            KCTMappingRepository::delete(770006);
        }
    }

    /** Our own failure answers 5xx (Zoom retries; an app_deauthorized is not lost) and names no path. */
    public function testOurFailuresAnswer503AndRevealNothing(): void
    {
        $answer = self::withoutRuntime(static function () {
            $request = new \WP_REST_Request('POST', '/kivicare/v1/settings/zoom-telemed/webhook');
            $request->set_body('{"event":"app_deauthorized","payload":{}}');
            return \KCTApp\controllers\api\KCTWebhookController::handle($request);
        });
        $this->assertSame(503, $answer->get_status());
        $text = wp_json_encode($answer->get_data());
        $this->assertStringNotContainsString('/nonexistent', $text);
        $this->assertStringNotContainsString('.wasm', $text);
    }

    /** A signed delivery handed to the controller in this process (so a test's filters apply): call it to send, again to resend. */
    private static function sendInProcess(string $event, array $payload): callable
    {
        $body = (string) wp_json_encode(['event' => $event, 'event_ts' => time() * 1000, 'payload' => $payload]);
        $ts = (string) time();
        return static function () use ($body, $ts) {
            $request = new \WP_REST_Request('POST', '/kivicare/v1/settings/zoom-telemed/webhook');
            $request->set_header('content-type', 'application/json');
            $request->set_header('x-zm-request-timestamp', $ts);
            $request->set_header('x-zm-signature', 'v0=' . hash_hmac('sha256', "v0:$ts:$body", 'kctWebhookSecret0123456'));
            $request->set_body($body);
            return \KCTApp\controllers\api\KCTWebhookController::handle($request);
        };
    }

    /**
     * Found by review: when the delivery could not be recorded (the database failed the
     * insert), it was taken for a replay: 200 "already received", nothing applied, and Zoom
     * never sent it again. Now it answers 503 and applies when sent again.
     */
    public function testADeliveryThatCouldNotBeRecordedAnswers503NotAReplay(): void
    {
        $row = $this->liveMeeting(770008);
        $deliveries = \KCTApp\database\migrations\KCTMigration0003WebhookDeliveries::table();
        $fail = static function ($q) use ($deliveries) {
            return strpos($q, "INSERT IGNORE INTO $deliveries ") === 0 ? 'INSERT INTO kct_no_such_table VALUES (1)' : $q;
        };
        $send = self::sendInProcess('meeting.started', ['object' => ['id' => (int) $row['zoom_id']]]);
        try {
            global $wpdb;
            $suppress = $wpdb->suppress_errors(true);
            add_filter('query', $fail);
            try {
                $failed = $send();
            } finally {
                remove_filter('query', $fail);
                $wpdb->suppress_errors($suppress);
            }
            $this->assertSame(503, $failed->get_status());
            $this->assertSame('kct_webhook_unavailable', $failed->get_data()['data']['code']);
            $this->assertNotSame('started', KCTMappingRepository::find(770008)['meeting_state'], 'nothing applied');
            $again = $send();
            $this->assertSame(200, $again->get_status());
            $this->assertArrayNotHasKey('replay', $again->get_data()['data']);
            $this->assertSame('started', KCTMappingRepository::find(770008)['meeting_state']);
        } finally {
            KCTMappingRepository::delete(770008);
        }
    }

    /**
     * Found by review: a delivery was recorded, then not applied (the row's write failed, or
     * the core did), and still answered 200, so Zoom never sent it again and a byte-identical
     * retry was acknowledged as a replay. Now it answers 503 and is forgotten, and the same
     * delivery applies when it comes again.
     */
    public function testADeliveryThatCouldNotBeAppliedAnswers503AndAppliesWhenSentAgain(): void
    {
        $row = $this->liveMeeting(770007);
        $table = KCTMappingRepository::table();
        // Every write of the mapping row finds nothing to update, as if others kept winning.
        $lose = static function ($q) use ($table) {
            return strpos($q, "UPDATE $table ") === 0 ? preg_replace('/ WHERE /', ' WHERE 1 = 0 AND ', $q, 1) : $q;
        };
        $send = self::sendInProcess('meeting.started', ['object' => ['id' => (int) $row['zoom_id']]]);
        try {
            add_filter('query', $lose);
            try {
                $failed = $send();
            } finally {
                remove_filter('query', $lose);
            }
            $this->assertSame(503, $failed->get_status());
            $this->assertSame('kct_webhook_unavailable', $failed->get_data()['data']['code']);
            $this->assertNotSame('started', KCTMappingRepository::find(770007)['meeting_state'], 'nothing applied');

            $again = $send();
            $this->assertSame(200, $again->get_status());
            $this->assertArrayNotHasKey('replay', $again->get_data()['data'], 'not taken for a replay');
            $this->assertSame('started', KCTMappingRepository::find(770007)['meeting_state']);
            $this->assertTrue($send()->get_data()['data']['replay'], 'once applied, the same delivery is a replay');
        } finally {
            KCTMappingRepository::delete(770007);
        }
    }

    /**
     * Found by review: when Zoom failed the "who are you" call right after a doctor
     * connected, their Zoom user was never recorded, so Zoom's deauthorization (which names
     * only the Zoom user) reached no one and the tokens stayed. The daily job asks again.
     */
    public function testTheDailyJobLearnsTheZoomUserZoomCouldNotNameAtConnect(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $doctor = $this->makeUser('kiviCare_doctor');
        $key = \KCTApp\storage\KCTSite::userKey(KCTTokenStore::ZOOM_USER);
        self::zoom('fault', ['kind' => 'server_error', 'count' => 5, 'path_prefix' => '/v2/users/me']);
        $this->connectDoctor($doctor);
        self::zoom('clear-faults');
        $this->assertSame('', get_user_meta($doctor, $key, true), 'Zoom did not say at connect');
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state'], 'connected all the same');

        do_action('kct_zoom_daily');
        $zoomUser = (string) get_user_meta($doctor, $key, true);
        $this->assertNotSame('', $zoomUser);
        $this->assertSame((string) KCTConnect::testConnection($doctor)['id'], $zoomUser);
        $this->assertSame([], KCTConnect::learnMissingZoomUsers(), 'nothing left to ask');
    }

    /** The same doctor, deauthorized before the daily job ran: the webhook asks, and the tokens go. */
    public function testADeauthorizationReachesADoctorWhoseZoomUserWasNotLearned(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $doctor = $this->makeUser('kiviCare_doctor');
        self::zoom('fault', ['kind' => 'server_error', 'count' => 5, 'path_prefix' => '/v2/users/me']);
        $this->connectDoctor($doctor);
        self::zoom('clear-faults');
        $zoomUser = (string) KCTConnect::testConnection($doctor)['id'];
        $this->assertSame([], KCTTokenStore::doctorsForZoomUser($zoomUser));
        // Zoom ends the grant (every token of that user for this app), then tells us.
        $token = KCTTokenStore::get($doctor, true)['token'];
        $revoked = wp_remote_post(getenv('KCT_ZOOM_URL') . '/oauth/revoke?token=' . rawurlencode($token['refresh_token']), [
            'headers' => ['Authorization' => 'Basic ' . base64_encode(self::$clientId . ':' . self::$clientSecret)],
        ]);
        $this->assertSame(200, wp_remote_retrieve_response_code($revoked));
        $d = self::deliver('kctWebhookSecret0123456', 'app_deauthorized', ['account_id' => 'fzAccountOAuth', 'user_id' => $zoomUser,
            'client_id' => self::$clientId, 'deauthorization_time' => gmdate('c')]);
        $this->assertSame(200, $d['status'], $d['body']);
        wp_cache_delete($doctor, 'user_meta');
        $this->assertSame('none', KCTTokenStore::get($doctor, true)['state'], 'the tokens are gone');
        $this->assertContains(KCTTokenStore::connection($doctor), KCTTokenStore::BROKEN, 'and the doctor must connect again');
    }

    /**
     * Found by review: a doctor who connected again (as another Zoom account, say) while Zoom
     * could not say who they are kept the Zoom user of the earlier grant. Zoom's deauthorization
     * of that earlier account then deleted the new grant's tokens. A new grant now forgets the
     * earlier user, and the deauthorization's own question finds the doctor's current one.
     */
    public function testADeauthorizationOfADoctorsEarlierZoomAccountLeavesTheNewGrant(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $doctor = $this->makeUser('kiviCare_doctor');
        $key = \KCTApp\storage\KCTSite::userKey(KCTTokenStore::ZOOM_USER);
        $this->connectDoctor($doctor);
        $earlier = (string) get_user_meta($doctor, $key, true);
        $this->assertNotSame('', $earlier);
        self::zoom('fault', ['kind' => 'server_error', 'count' => 5, 'path_prefix' => '/v2/users/me']);
        $this->connectDoctor($doctor); // the fake Zoom's consent is another Zoom user
        self::zoom('clear-faults');
        $this->assertSame('', get_user_meta($doctor, $key, true), 'the earlier account is not this grant\'s');

        $d = self::deliver('kctWebhookSecret0123456', 'app_deauthorized', ['account_id' => 'fzAccountOAuth', 'user_id' => $earlier,
            'client_id' => self::$clientId, 'deauthorization_time' => gmdate('c')]);
        $this->assertSame(200, $d['status'], $d['body']);
        wp_cache_delete($doctor, 'user_meta');
        $this->assertSame('ok', KCTTokenStore::get($doctor, true)['state'], 'the new grant\'s tokens stay');
        $now = (string) get_user_meta($doctor, $key, true);
        $this->assertNotSame($earlier, $now);
        $this->assertSame((string) KCTConnect::testConnection($doctor)['id'], $now, 'learned when the deauthorization named no doctor');
    }

    /** KiviCare's base class answers anonymous admin-ajax kc_zoom_webhook; ours refuses. */
    public function testTheInheritedAjaxWebhookIsRefused(): void
    {
        $providers = apply_filters('kc_telemed_providers', []);
        $p = new $providers['zoom']['class']($providers['zoom']['settings_key']);
        add_filter('wp_doing_ajax', '__return_true');
        $die = static function () {
            return static function () {
                throw new \RuntimeException('died');
            };
        };
        add_filter('wp_die_ajax_handler', $die);
        ob_start();
        try {
            $p->handle_webhook();
            $this->fail('it should stop');
        } catch (\RuntimeException $e) {
            $out = json_decode((string) ob_get_contents(), true);
        } finally {
            ob_end_clean();
            remove_filter('wp_doing_ajax', '__return_true');
            remove_filter('wp_die_ajax_handler', $die);
        }
        $this->assertFalse($out['success']);
        $this->assertStringEndsWith('/settings/zoom-telemed/webhook', $out['data']['webhook_url']);
    }

    public function testSignedEventsApplyAndUnsignedOnesAreRefused(): void
    {
        $this->resetZoom();
        $this->configureOAuth();
        $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecret0123456']));
        $doctor = $this->makeUser('kiviCare_doctor');
        $this->connectDoctor($doctor);
        $row = $this->ensureMeeting((['appointment_id' => 770001, 'doctor_id' => $doctor,
            'start_time' => '2030-01-01 10:00:00', 'duration' => 30, 'timezone' => 'UTC']));
        try {
            $v = self::deliver('kctWebhookSecret0123456', 'endpoint.url_validation');
            $this->assertSame(200, $v['status']);
            $this->assertTrue($v['validated'], 'the URL validation handshake');

            $s = self::deliver('kctWebhookSecret0123456', 'meeting.started', ['object' => ['id' => (int) $row['zoom_id']]]);
            $this->assertSame(200, $s['status'], $s['body']);
            $this->assertSame('started', KCTMappingRepository::find(770001)['meeting_state']);

            $bad = self::deliver('not-the-secret-000000', 'meeting.ended', ['object' => ['id' => (int) $row['zoom_id']]]);
            $this->assertSame(401, $bad['status']);
            $this->assertSame('started', KCTMappingRepository::find(770001)['meeting_state'], 'nothing changed');

            // Rotation: the previous secret still verifies.
            $this->assertTrue(KCTSettings::save(['webhook_secret' => 'kctWebhookSecretNew01234']));
            $old = self::deliver('kctWebhookSecret0123456', 'meeting.ended', ['object' => ['id' => $row['zoom_id']]]);
            $this->assertSame(200, $old['status']);
            $this->assertSame('ended', KCTMappingRepository::find(770001)['meeting_state']);

            $zoomUser = get_user_meta($doctor, KCTTokenStore::ZOOM_USER, true);
            $this->assertNotEmpty($zoomUser);
            $d = self::deliver('kctWebhookSecretNew01234', 'app_deauthorized', ['account_id' => 'fzAccountOAuth', 'user_id' => $zoomUser,
                'client_id' => self::$clientId, 'deauthorization_time' => gmdate('c')]);
            $this->assertSame(200, $d['status']);
            wp_cache_delete($doctor, 'user_meta');
            $this->assertSame('none', KCTTokenStore::get($doctor, true)['state'], 'deauthorization deletes the tokens');
            $this->assertSame('deauthorized', KCTTokenStore::connection($doctor));
        } finally {
            KCTMappingRepository::delete(770001);
        }
    }
}
