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
     * Performs a lifecycle step's `call` effect: the core named the operation to build and
     * how to interpret the answer. Answers the step's next `last`: the interpreted outcome,
     * or the host error that stopped the call before Zoom answered.
     */
    public static function perform(array $effect): array
    {
        $build = $effect['build'];
        $out = self::exchange((int) $effect['doctor_id'], (string) $effect['operation'], static function ($core, $auth) use ($build) {
            return $core->run((string) $build['op'], ['auth' => $auth] + (array) $build['input']);
        });
        if (!is_wp_error($out)) {
            if (isset($effect['daily_cap'])) {
                // Zoom answered a call the core says counts against the host's daily cap.
                KCTHostUsage::count((int) $effect['doctor_id'], (int) $effect['daily_cap'], time());
            }
            return ['call' => $effect, 'outcome' => $out];
        }
        $data = (array) $out->get_error_data();
        $error = ['code' => $out->get_error_code(), 'message' => $out->get_error_message()];
        if (isset($data['retry_at'])) {
            $error['retry_at'] = (int) $data['retry_at'];
        }
        return ['call' => $effect, 'host_error' => $error];
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

    /** @return array|\WP_Error the core's outcome once no token renewal is left to try */
    private static function exchange(int $doctorId, string $operation, callable $build)
    {
        $ctx = KCTZoomAuth::context($doctorId);
        return is_wp_error($ctx) ? $ctx : self::exchangeWith($ctx, $operation, $build);
    }

    private static function exchangeWith(array $ctx, string $operation, callable $build)
    {
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
            if (is_wp_error($out) || $out['action'] !== 'refresh_then_retry') {
                return $out;
            }
            $rejected = $token['access_token'];
        }
        return $out;
    }
}
