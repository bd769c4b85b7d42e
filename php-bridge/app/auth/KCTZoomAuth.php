<?php

namespace KCTApp\auth;

use KCTApp\connection\KCTDoctorSettings;
use KCTApp\storage\KCTEncrypted;
use KCTApp\settings\KCTSettings;
use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTHttp;
use KCTApp\zoom\KCTLock;

/**
 * Who calls Zoom for a doctor, and with which token. The decisions (use, refresh, fetch,
 * reauthorize; what an invalid_grant means) are the core's; this class performs them:
 * storage, the database lock that makes refresh single-flight, the HTTP calls.
 */
final class KCTZoomAuth
{
    /** Who an OAuth connection's calls name as the host: the connected user. */
    public const OAUTH_HOST = 'me';

    /**
     * The auth context for a doctor: mode (oauth | s2s), Zoom host, client credentials.
     *
     * @return array|\WP_Error
     */
    public static function context(int $doctorId)
    {
        $own = KCTDoctorSettings::s2s($doctorId);
        if ($own['enabled'] && $own['client_secret'] !== null) {
            return self::s2sContext($doctorId, KCTDoctorSettings::ownAppUser($doctorId), $own['client_id'], $own['client_secret'], $own['account_id']);
        }
        // The clinic's secret is opened once (this runs at every lifecycle step).
        $settings = KCTSettings::raw();
        $secret = KCTSettings::secret('client_secret');
        if ($settings['auth_type'] === 'server-to-server' && $secret !== null) {
            return self::s2sContext($doctorId, KCTDoctorSettings::clinicAppUser($doctorId), $settings['client_id'], $secret, $settings['account_id']);
        }
        if ($settings['auth_type'] === 'oauth' && $secret !== null) {
            return [
                'mode' => 'oauth', 'doctor_id' => $doctorId, 'host' => self::OAUTH_HOST,
                'client_id' => $settings['client_id'], 'client_secret' => $secret, 'account_id' => '',
            ];
        }
        return new \WP_Error('kct_not_configured', __('Zoom is not configured for this doctor.', 'kivicare-telemed-zoom'), ['status' => 409]);
    }

    /** A Server-to-Server app's context, hosting the doctor's meetings as `$host`. */
    public static function s2sContext(int $doctorId, string $host, string $clientId, string $clientSecret, string $accountId): array
    {
        return [
            'mode' => 's2s', 'doctor_id' => $doctorId, 'host' => $host,
            'client_id' => $clientId, 'client_secret' => $clientSecret, 'account_id' => $accountId,
        ];
    }

    /**
     * What `lifecycle.step` needs to build a call for this doctor at once: the mode and the
     * stored token (the core decides whether it is still good).
     */
    public static function forStep(array $ctx): array
    {
        $token = self::stored($ctx, false);
        return ['doctor_id' => (int) $ctx['doctor_id'], 'mode' => $ctx['mode']] + ($token !== null ? ['token' => $token] : []);
    }

    /** @return array|\WP_Error the clinic-wide Server-to-Server context, for a doctor's meetings */
    public static function clinicContext(int $doctorId)
    {
        $clinic = KCTSettings::raw();
        $secret = KCTSettings::secret('client_secret');
        if ($clinic['auth_type'] !== 'server-to-server' || $secret === null) {
            return new \WP_Error('kct_not_clinic_s2s', __('The clinic does not use a Server-to-Server Zoom app.', 'kivicare-telemed-zoom'), ['status' => 409]);
        }
        return self::s2sContext($doctorId, KCTDoctorSettings::clinicAppUser($doctorId), $clinic['client_id'], $secret, $clinic['account_id']);
    }

    private static function client(array $ctx): array
    {
        $c = ['client_id' => $ctx['client_id'], 'client_secret' => $ctx['client_secret']];
        $base = KCTSettings::oauthBase();
        if ($base !== null) {
            $c['oauth_base'] = $base;
        }
        return $c;
    }

    private static function s2sOption(array $ctx): string
    {
        return 'kct_zoom_s2s_' . substr(hash('sha256', $ctx['client_id'] . '|' . $ctx['account_id']), 0, 20);
    }

    /** @return array|null the stored token set for the context */
    private static function stored(array $ctx, bool $fresh): ?array
    {
        if ($ctx['mode'] === 'oauth') {
            $t = KCTTokenStore::get($ctx['doctor_id'], $fresh);
            return $t['token'];
        }
        $t = KCTEncrypted::sideOption(self::s2sOption($ctx));
        return is_array($t) ? $t : null;
    }

    private static function store(array $ctx, array $token): void
    {
        if ($ctx['mode'] === 'oauth') {
            KCTTokenStore::put($ctx['doctor_id'], $token);
        } else {
            KCTEncrypted::setSideOption(self::s2sOption($ctx), $token);
        }
    }

    /** @return array|\WP_Error */
    private static function decide(array $ctx, ?array $token, ?string $rejected)
    {
        return KCTCoreAccess::run(static function ($core) use ($ctx, $token, $rejected) {
            $in = ['mode' => $ctx['mode'], 'now' => time()];
            if ($token !== null) {
                $in['token'] = $token;
            }
            if ($rejected !== null) {
                $in['rejected'] = $rejected;
            }
            return $core->tokenDecide($in);
        });
    }

    private static function reconnect(array $ctx, string $reason): \WP_Error
    {
        if ($ctx['mode'] === 'oauth') {
            KCTTokenStore::change($ctx['doctor_id'], 'reauthorize');
        }
        return new \WP_Error('kct_reconnect_required', __('The doctor must connect Zoom again.', 'kivicare-telemed-zoom'), ['status' => 409, 'reason' => $reason]);
    }

    /**
     * A usable token set for the context. `$rejected` is an access token Zoom just refused:
     * the core has it renewed unless another worker already did.
     *
     * @return array|\WP_Error
     */
    public static function token(array $ctx, ?string $rejected = null)
    {
        $token = self::stored($ctx, false);
        $decision = self::decide($ctx, $token, $rejected);
        if (is_wp_error($decision) || $decision['action'] !== 'refresh' && $decision['action'] !== 'fetch') {
            return self::perform($ctx, $decision, $token);
        }
        return self::renew($ctx, $decision, $rejected);
    }

    /** Refresh (OAuth) or fetch (S2S), one worker at a time across processes and servers. */
    private static function renew(array $ctx, array $decision, ?string $rejected)
    {
        $lock = $ctx['mode'] === 'oauth' ? 'kct_refresh_' . $ctx['doctor_id'] : self::s2sOption($ctx);
        if (!KCTLock::acquire($lock, (int) $decision['lock_wait_s'])) {
            return new \WP_Error('kct_retry_later', __('Zoom is busy for this doctor; try again shortly.', 'kivicare-telemed-zoom'), ['status' => 503, 'retry_at' => (int) $decision['busy_retry_at']]);
        }
        try {
            // Decided again on a re-read under the lock: another worker may have renewed already.
            $token = self::stored($ctx, true);
            return self::perform($ctx, self::decide($ctx, $token, $rejected), $token);
        } finally {
            KCTLock::release($lock);
        }
    }

    /**
     * Carries out a token decision on `$token`, the set it was made on. Refresh and fetch
     * are performed only under the renewal lock (renew()).
     *
     * @param array|\WP_Error $decision
     * @return array|\WP_Error
     */
    private static function perform(array $ctx, $decision, ?array $token)
    {
        if (is_wp_error($decision)) {
            return $decision;
        }
        switch ($decision['action']) {
            case 'use':
                return $token;
            case 'refresh':
                return self::refresh($ctx, $token);
            case 'fetch':
                return self::fetchNew($ctx);
            case 'reauthorize':
                return self::reconnect($ctx, (string) $decision['reason']);
            default:
                return self::outcomeError($decision);
        }
    }

    private static function refresh(array $ctx, array $token)
    {
        $used = $token['refresh_token'];
        $out = KCTCoreAccess::run(static function ($core) use ($ctx, $used) {
            $req = $core->oauthRefresh(self::client($ctx) + ['refresh_token' => $used]);
            return $core->apiInterpret(['operation' => 'refresh_token', 'now' => time(), 'random' => KCTCoreAccess::random(8)] + KCTHttp::send($req));
        });
        if (is_wp_error($out)) {
            return $out;
        }
        switch ($out['action']) {
            case 'done':
                // Both tokens are replaced: the old refresh token is dead at Zoom now.
                self::store($ctx, $out['result']);
                return $out['result'];
            case 'check_stored':
                $stored = self::stored($ctx, true);
                $next = KCTCoreAccess::run(static function ($core) use ($used, $stored) {
                    $in = ['used_refresh_token' => $used, 'now' => time()];
                    if ($stored !== null) {
                        $in['stored'] = $stored;
                    }
                    return $core->tokenAfterRefreshFailure($in);
                });
                if (is_wp_error($next) || $next['action'] !== 'use_stored') {
                    return self::perform($ctx, $next, null);
                }
                // The stored set is another one than the refused (the doctor reconnected
                // meanwhile): carry on with it as the core says; the lock is still held.
                return self::perform($ctx, $next['next'], $stored);
            default:
                return self::outcomeError($out);
        }
    }

    /**
     * A new Server-to-Server token, asked of Zoom whatever is stored (tokens of one app
     * coexist, so no lock): what the app's credentials get from Zoom now. A stored token of
     * the app says nothing of a secret typed now, so saving an app checks it with this.
     *
     * @return array|\WP_Error
     */
    public static function fetchNew(array $ctx)
    {
        $out = KCTCoreAccess::run(static function ($core) use ($ctx) {
            $req = $core->oauthS2sToken(self::client($ctx) + ['account_id' => $ctx['account_id']]);
            return $core->apiInterpret(['operation' => 's2s_token', 'now' => time(), 'random' => KCTCoreAccess::random(8)] + KCTHttp::send($req));
        });
        if (is_wp_error($out)) {
            return $out;
        }
        if ($out['action'] === 'done') {
            self::store($ctx, $out['result']);
            return $out['result'];
        }
        return self::outcomeError($out);
    }

    /** An outcome the caller cannot act on here, as WP_Error (the message never holds a secret). */
    public static function outcomeError(array $out): \WP_Error
    {
        switch ($out['action']) {
            case 'retry_at':
            case 'recover_then_retry':
                return new \WP_Error('kct_retry_later', __('Zoom asked us to try again later.', 'kivicare-telemed-zoom'), ['status' => 503, 'retry_at' => $out['at'], 'reason' => $out['reason'], 'recover' => $out['action'] === 'recover_then_retry']);
            case 'reconnect':
                return new \WP_Error('kct_reconnect_required', $out['message'], ['status' => 409, 'reason' => $out['reason']]);
            case 'gone':
                return new \WP_Error('kct_meeting_gone', __('The Zoom meeting no longer exists.', 'kivicare-telemed-zoom'), ['status' => 404]);
            case 'fail':
                return new \WP_Error('kct_zoom_' . $out['code'], $out['message'], ['status' => 502, 'http_status' => $out['http_status'] ?? null]);
            default:
                return new \WP_Error('kct_zoom_unexpected', 'unexpected outcome ' . $out['action'], ['status' => 502]);
        }
    }
}
