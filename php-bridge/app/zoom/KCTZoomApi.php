<?php
namespace KCTApp\zoom;

use KCTApp\auth\KCTZoomAuth;

/**
 * One Meeting API call for a doctor: token, request (built by the core), send, and the
 * core's interpretation; a rejected token is renewed and the call retried once.
 */
final class KCTZoomApi
{
    /**
     * @param string   $operation the core's api operation (create_meeting, get_meeting, ...)
     * @param callable $build     fn(KCTZoomCore $core, array $auth, string $host): array request
     * @return mixed|\WP_Error the `result` of a `done` outcome
     */
    public static function call(int $doctorId, string $operation, callable $build)
    {
        $ctx = KCTZoomAuth::context($doctorId);
        if (is_wp_error($ctx)) {
            return $ctx;
        }
        $rejected = null;
        for ($attempt = 1; $attempt <= 2; $attempt++) {
            $token = KCTZoomAuth::token($ctx, $rejected);
            if (is_wp_error($token)) {
                return $token;
            }
            $out = KCTCoreAccess::run(static function ($core) use ($build, $token, $ctx, $operation, $attempt) {
                $req = $build($core, ['access_token' => $token['access_token'], 'api_url' => $token['api_url']], $ctx['host']);
                return $core->apiInterpret([
                    'operation' => $operation,
                    'now' => time(),
                    'refreshed' => $attempt > 1,
                    'random' => KCTCoreAccess::random(8),
                ] + KCTHttp::send($req));
            });
            if (is_wp_error($out)) {
                return $out;
            }
            if ($out['action'] === 'done') {
                return $out['result'];
            }
            if ($out['action'] !== 'refresh_then_retry') {
                return KCTZoomAuth::outcomeError($out);
            }
            $rejected = $token['access_token'];
        }
        return new \WP_Error('kct_reconnect_required', __('Zoom keeps refusing this connection.', 'kivicare-telemed-zoom'), ['status' => 409]);
    }
}
