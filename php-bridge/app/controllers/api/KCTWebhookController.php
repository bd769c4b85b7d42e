<?php

namespace KCTApp\controllers\api;

use KCTApp\zoom\KCTCoreAccess;
use KCTApp\auth\KCTTokenStore;
use KCTApp\database\migrations\KCTMigration0003WebhookDeliveries;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;

/**
 * Zoom's webhook: the core verifies the signature (current and previous secret, 300 s),
 * answers the URL validation, and turns events into actions this class applies.
 */
final class KCTWebhookController
{
    /** Refusals that are the caller's fault; anything else is ours, and Zoom should retry it. */
    public const REFUSED = [
        'kct_webhook_signature_invalid' => 401,
        'kct_webhook_content_type_invalid' => 415,
        'kct_webhook_timestamp_stale' => 401,
        'kct_webhook_secret_missing' => 401,
        'kct_webhook_payload_invalid' => 400,
        'kct_webhook_plain_token_invalid' => 400,
        'kct_input_invalid' => 400,
        'kct_json_invalid' => 400,
        'kct_input_too_large' => 413,
    ];

    public static function handle(\WP_REST_Request $request): \WP_REST_Response
    {
        $headers = [];
        foreach ($request->get_headers() as $name => $values) {
            // WordPress normalises names to lower_snake; Zoom's are x-zm-*.
            $headers[str_replace('_', '-', $name)] = is_array($values) ? (string) reset($values) : (string) $values;
        }
        $secrets = KCTSettings::webhookSecrets();
        $action = KCTCoreAccess::run(static function ($core) use ($headers, $request, $secrets) {
            return $core->webhookHandle([
                'headers' => (object) $headers,
                'body' => $request->get_body(),
                'secrets' => $secrets['secrets'],
                'rotated_at' => $secrets['rotated_at'],
                'now' => time(),
            ]);
        });
        if (is_wp_error($action)) {
            $code = $action->get_error_code();
            if (isset(self::REFUSED[$code])) {
                return self::answer(false, $action->get_error_message(), ['code' => $code], self::REFUSED[$code]);
            }
            // Our failure (no runtime, a bug): 5xx so Zoom delivers again, and nothing about
            // this server (paths, versions) for an anonymous caller.
            return self::unavailable();
        }
        update_option(\KCTApp\diagnostics\KCTDiagnostics::LAST_WEBHOOK, time(), false);
        $first = $action['action'] === 'url_validation' ? true : self::firstDelivery($action);
        if ($first === null) {
            // Not recorded (the database failed us): not applied either, so Zoom sends it again.
            return self::unavailable();
        }
        if (!$first) {
            // An exact replay of a delivery already applied: acknowledged, nothing changes.
            return self::answer(true, 'already received', ['action' => $action['action'], 'replay' => true], 200);
        }
        $applied = true;
        switch ($action['action']) {
            case 'url_validation':
                // Zoom expects exactly this body.
                return new \WP_REST_Response(['plainToken' => $action['plainToken'], 'encryptedToken' => $action['encryptedToken']], 200);
            case 'meeting_started':
            case 'meeting_ended':
                // Both, even when the first fails: each is safe to apply again.
                $applied = self::applyToMapping($action);
                $applied = \KCTApp\visits\KCTVisits::apply($action) && $applied;
                break;
            case 'meeting_deleted':
            case 'meeting_updated':
                $applied = self::applyToMapping($action);
                break;
            case 'participant':
                $applied = \KCTApp\visits\KCTVisits::apply($action);
                break;
            case 'deauthorize':
                $doctors = KCTTokenStore::doctorsForZoomUser($action['zoom_user_id']);
                if ($doctors === []) {
                    // Perhaps a doctor whose Zoom user was never learned: ask now.
                    \KCTApp\connection\KCTConnect::learnMissingZoomUsers();
                    $doctors = KCTTokenStore::doctorsForZoomUser($action['zoom_user_id']);
                }
                foreach ($doctors as $doctor) {
                    KCTTokenStore::change($doctor, 'deauthorized');
                }
                break;
        }
        if (!$applied) {
            // Not applied (the core or the database failed us, or other writers kept
            // winning): forget the delivery and answer 5xx, so Zoom's retry is applied
            // instead of being acknowledged as a replay of something that never happened.
            self::forgetDelivery($action);
            return self::unavailable();
        }
        /**
         * Fires after a verified Zoom webhook was applied.
         *
         * @since 4.0.0
         * @param array $action the core's action (meeting_started, deauthorize, ...)
         */
        do_action('kct_zoom_webhook', $action);
        return self::answer(true, 'ok', ['action' => $action['action']], 200);
    }

    /** Our failure, said the same way each time: 503, so Zoom delivers again. */
    private static function unavailable(): \WP_REST_Response
    {
        return self::answer(false, __('The webhook could not be processed now; please retry.', 'kivicare-telemed-zoom'), ['code' => 'kct_webhook_unavailable'], 503);
    }

    private static function answer(bool $ok, string $message, array $data, int $status): \WP_REST_Response
    {
        return new \WP_REST_Response(['status' => $ok, 'message' => $message, 'data' => $data], $status);
    }

    /**
     * Records a delivery; false when it was recorded before (a replay), null when it could
     * not be recorded. Deliveries are kept a day (well past the signature's 300 s window; the
     * status screen lists them), then purged here.
     */
    private static function firstDelivery(array $action): ?bool
    {
        global $wpdb;
        $t = KCTMigration0003WebhookDeliveries::table();
        $wpdb->query($wpdb->prepare("DELETE FROM $t WHERE received_at < %s LIMIT 200", gmdate('Y-m-d H:i:s', time() - DAY_IN_SECONDS)));
        $inserted = $wpdb->query($wpdb->prepare(
            "INSERT IGNORE INTO $t (delivery, received_at, event, meeting_id) VALUES (%s, %s, %s, %s)",
            (string) $action['delivery'],
            gmdate('Y-m-d H:i:s'),
            // A participant's delivery names its change (participant_joined, ..._left, ...).
            substr((string) $action['action'] . (isset($action['change']) ? '_' . $action['change'] : ''), 0, 64),
            substr((string) ($action['meeting_id'] ?? ''), 0, 32)
        ));
        return $inserted === false ? null : (int) $inserted === 1;
    }

    private static function forgetDelivery(array $action): void
    {
        global $wpdb;
        $wpdb->delete(KCTMigration0003WebhookDeliveries::table(), ['delivery' => (string) $action['delivery']], ['%s']);
    }

    /** The latest deliveries, newest first (the status screen). */
    public static function recent(int $limit = 20): array
    {
        global $wpdb;
        $t = KCTMigration0003WebhookDeliveries::table();
        return (array) $wpdb->get_results($wpdb->prepare(
            "SELECT received_at, event, meeting_id FROM $t ORDER BY received_at DESC LIMIT %d",
            $limit
        ), ARRAY_A);
    }

    /** @return bool false when the event could not be applied (Zoom should deliver it again) */
    private static function applyToMapping(array $action): bool
    {
        // Compare-and-swap like every row write: a lost write re-reads and applies again.
        for ($try = 0; $try < 5; $try++) {
            $row = KCTMappingRepository::findByZoomId((string) $action['meeting_id']);
            if ($row === null) {
                return true; // not one of ours: nothing to apply
            }
            $next = KCTCoreAccess::run(static function ($core) use ($row, $action) {
                return $core->mappingApplyEvent(['row' => $row, 'event' => $action, 'now' => time()]);
            });
            if (is_wp_error($next)) {
                return false;
            }
            if (KCTMappingRepository::compareAndSwap($next, $row['version'])) {
                // Let the core see what the event left: a meeting deleted in Zoom while the
                // appointment is still booked is made again, with its links.
                \KCTApp\meetings\KCTMeetingLoop::run((int) $row['appointment_id'], null);
                return true;
            }
        }
        return false;
    }
}
