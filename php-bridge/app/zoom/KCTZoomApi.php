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
        $out = self::exchange($doctorId, $operation, $build);
        if (is_wp_error($out)) {
            return $out;
        }
        return $out['action'] === 'done' ? $out['result'] : KCTZoomAuth::outcomeError($out);
    }

    /**
     * Performs a lifecycle step's `call` effect: the core named the operation, and built the
     * request when the token it was given is good. Answers the step's next `last`: Zoom's
     * answer to that request as it came (the step reads it itself), or, the long way, the
     * interpreted outcome; or the host error that stopped the call before Zoom answered.
     * `$renewed` says the token was renewed on the way.
     *
     * @param string|null $used the access token the step was given (and built `request` with)
     */
    public static function perform(array $effect, ?string $used = null, bool &$renewed = false): array
    {
        // What the next step reads of the call (never the request: it carries the token).
        $echo = $effect;
        unset($echo['request'], $echo['build'], $echo['renew_token']);
        $doctorId = (int) $effect['doctor_id'];
        if (isset($effect['request']) && $used !== null) {
            // Ready to send: the answer goes straight back to the step, one core call per
            // Zoom call.
            $answer = KCTHttp::send($effect['request']);
            if (isset($answer['response'], $effect['daily_cap'])) {
                KCTHostUsage::count($doctorId, (int) $effect['daily_cap'], time());
            }
            return ['call' => $echo] + $answer;
        }
        // The long way: a usable token (renewing the one Zoom refused, when the step says
        // so), build, send, interpret.
        $renewed = true;
        $build = (array) ($effect['build'] ?? []);
        $out = self::exchange($doctorId, (string) $effect['operation'], static function ($core, $auth) use ($build) {
            return $core->run((string) ($build['op'] ?? ''), ['auth' => $auth] + (array) ($build['input'] ?? []));
        }, empty($effect['renew_token']) ? null : $used);
        if (!is_wp_error($out)) {
            if (isset($effect['daily_cap'])) {
                // Zoom answered a call the core says counts against the host's daily cap.
                KCTHostUsage::count($doctorId, (int) $effect['daily_cap'], time());
            }
            return ['call' => $echo, 'outcome' => $out];
        }
        $data = (array) $out->get_error_data();
        $error = ['code' => $out->get_error_code(), 'message' => $out->get_error_message()];
        if (isset($data['retry_at'])) {
            $error['retry_at'] = (int) $data['retry_at'];
        }
        return ['call' => $echo, 'host_error' => $error];
    }

    /**
     * As call(), through a given auth context (KCTZoomAuth::context or ::clinicContext).
     *
     * @return mixed|\WP_Error
     */
    public static function callWith(array $ctx, string $operation, callable $build)
    {
        $out = self::exchangeWith($ctx, $operation, $build);
        if (is_wp_error($out)) {
            return $out;
        }
        return $out['action'] === 'done' ? $out['result'] : KCTZoomAuth::outcomeError($out);
    }

    /**
     * @param string|null $rejected an access token Zoom already refused for this call
     * @return array|\WP_Error the core's outcome once no token renewal is left to try
     */
    private static function exchange(int $doctorId, string $operation, callable $build, ?string $rejected = null)
    {
        $ctx = KCTZoomAuth::context($doctorId);
        return is_wp_error($ctx) ? $ctx : self::exchangeWith($ctx, $operation, $build, $rejected);
    }

    private static function exchangeWith(array $ctx, string $operation, callable $build, ?string $rejected = null)
    {
        for ($attempt = $rejected === null ? 1 : 2; $attempt <= 2; $attempt++) {
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
            if (is_wp_error($out) || $out['action'] !== 'refresh_then_retry') {
                return $out;
            }
            $rejected = $token['access_token'];
        }
        return $out;
    }
}
