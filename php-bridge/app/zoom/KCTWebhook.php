<?php
namespace KCTApp\zoom;

use KCTApp\auth\KCTTokenStore;
use KCTApp\models\KCTMappingRepository;
use KCTApp\settings\KCTSettings;

/**
 * Zoom's webhook: the core verifies the signature (current and previous secret, 300 s),
 * answers the URL validation, and turns events into actions this class applies.
 */
final class KCTWebhook
{
    public static function handle(\WP_REST_Request $request): \WP_REST_Response
    {
        $headers = [];
        foreach ($request->get_headers() as $name => $values) {
            // WordPress normalises names to lower_snake; Zoom's are x-zm-*.
            $headers[str_replace('_', '-', $name)] = is_array($values) ? (string) reset($values) : (string) $values;
        }
        $secrets = array_values(array_filter([KCTSettings::secret('webhook_secret'), KCTSettings::secret('webhook_secret_previous')]));
        if (!$secrets) {
            $secrets = [''];
        }
        $action = KCTCoreAccess::run(static function ($core) use ($headers, $request, $secrets) {
            return $core->webhookHandle([
                'headers' => (object) $headers,
                'body' => $request->get_body(),
                'secrets' => $secrets,
                'now' => time(),
            ]);
        });
        if (is_wp_error($action)) {
            $code = $action->get_error_code();
            $status = in_array($code, ['kct_webhook_signature_invalid', 'kct_webhook_timestamp_stale', 'kct_webhook_secret_missing'], true) ? 401 : 400;
            return new \WP_REST_Response(['status' => false, 'message' => $action->get_error_message(), 'data' => ['code' => $code]], $status);
        }
        switch ($action['action']) {
            case 'url_validation':
                // Zoom expects exactly this body.
                return new \WP_REST_Response(['plainToken' => $action['plainToken'], 'encryptedToken' => $action['encryptedToken']], 200);
            case 'meeting_started':
            case 'meeting_ended':
            case 'meeting_deleted':
            case 'meeting_updated':
                self::applyToMapping($action);
                break;
            case 'deauthorize':
                foreach (KCTTokenStore::doctorsForZoomUser($action['zoom_user_id']) as $doctor) {
                    KCTTokenStore::forget($doctor, 'deauthorized');
                }
                break;
        }
        /**
         * Fires after a verified Zoom webhook was applied.
         *
         * @since 4.0.0
         * @param array $action the core's action (meeting_started, deauthorize, ...)
         */
        do_action('kct_zoom_webhook', $action);
        return new \WP_REST_Response(['status' => true, 'message' => 'ok', 'data' => ['action' => $action['action']]], 200);
    }

    private static function applyToMapping(array $action): void
    {
        // Compare-and-swap like every row write: a lost write re-reads and applies again.
        for ($try = 0; $try < 5; $try++) {
            $row = KCTMappingRepository::findByZoomId((string) $action['meeting_id']);
            if ($row === null) {
                return;
            }
            $next = KCTCoreAccess::run(static function ($core) use ($row, $action) {
                return $core->mappingApplyEvent(['row' => $row, 'event' => $action, 'now' => time()]);
            });
            if (is_wp_error($next) || KCTMappingRepository::compareAndSwap($next, $row['version'])) {
                return;
            }
        }
    }
}
