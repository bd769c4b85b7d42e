<?php

namespace KCTApp\connection;

use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTZoomApi;
use KCTApp\zoom\KCTHttp;
use KCTApp\storage\KCTSite;
use KCTApp\connection\KCTDoctorSettings;
use KCTApp\auth\KCTTokenStore;
use KCTApp\auth\KCTZoomAuth;
use KCTApp\settings\KCTSettings;

/**
 * A doctor's connection to Zoom: the OAuth authorize URL and callback (state signed by the
 * core, burnt once in the database), test connection, their own Server-to-Server settings,
 * and disconnect (revoke at Zoom, delete local tokens).
 */
final class KCTConnect
{
    public const BURN_PREFIX = 'kct_zoom_burn_';
    /** The cookie binding an OAuth flow to the browser that started it. */
    public const BINDER_COOKIE = 'kct_zoom_oauth';
    /** What a doctor's save may carry about Zoom (KiviCare's form adds `enable_server_to_server`). */
    public const DOCTOR_FIELDS = ['auth_type', 'enable_server_to_server', 'account_id', 'client_id', 'client_secret', 'zoom_user'];

    /** The HMAC key for OAuth states: derived from WordPress's salts with a label. */
    private static function siteKey(): string
    {
        return hash_hmac('sha256', 'kivicare-telemed-zoom/oauth-state/v1', wp_salt('auth') . wp_salt('nonce'));
    }

    private static function oauthClient()
    {
        $s = KCTSettings::raw();
        $secret = KCTSettings::secret('client_secret');
        if ($s['auth_type'] !== 'oauth' || $s['client_id'] === '' || $secret === null) {
            return new \WP_Error('kct_oauth_not_configured', __('The clinic has not set up a Zoom OAuth app.', 'kivicare-telemed-zoom'), ['status' => 409]);
        }
        $c = ['client_id' => $s['client_id'], 'client_secret' => $secret];
        $base = KCTSettings::oauthBase();
        if ($base !== null) {
            $c['oauth_base'] = $base;
        }
        return $c;
    }

    /**
     * Starts a doctor's OAuth flow: Zoom's authorize URL, and the binder the browser that
     * starts it must keep (KCTConnect::BINDER_COOKIE) and present at the callback.
     *
     * @return array{url: string, binder: string, expires_at: int}|\WP_Error
     */
    public static function authorize(int $doctorId)
    {
        $client = self::oauthClient();
        if (is_wp_error($client)) {
            return $client;
        }
        $out = KCTCoreAccess::run(static function ($core) use ($client, $doctorId) {
            $in = [
                'client_id' => $client['client_id'],
                'redirect_uri' => KCTSettings::raw()['redirect_url'] ?: KCTSettings::callbackUrl(),
                'user_id' => $doctorId,
                'now' => time(),
                'site_key' => self::siteKey(),
                'random' => KCTCoreAccess::random(16),
            ];
            if (isset($client['oauth_base'])) {
                $in['oauth_base'] = $client['oauth_base'];
            }
            return $core->oauthAuthorize($in);
        });
        return is_wp_error($out) ? $out : ['url' => $out['url'], 'binder' => $out['binder'], 'expires_at' => (int) $out['expires_at']];
    }

    /**
     * Zoom's authorize URL, with the binder cookie set in this response when it still can be.
     *
     * @return string|\WP_Error
     */
    public static function authorizeUrl(int $doctorId)
    {
        $a = self::authorize($doctorId);
        if (is_wp_error($a)) {
            return $a;
        }
        self::setBinderCookie($a['binder'], $a['expires_at']);
        return $a['url'];
    }

    /** HttpOnly, SameSite=Lax (sent on Zoom's top-level redirect back), Secure on https. */
    public static function setBinderCookie(string $binder, int $expires): void
    {
        if (headers_sent()) {
            return;
        }
        setcookie(self::BINDER_COOKIE, $binder, ['expires' => $expires, 'path' => '/', 'secure' => is_ssl(),
            'httponly' => true, 'samesite' => 'Lax']);
    }

    public static function clearBinderCookie(): void
    {
        if (!headers_sent()) {
            setcookie(self::BINDER_COOKIE, '', ['expires' => 1, 'path' => '/', 'secure' => is_ssl(), 'httponly' => true, 'samesite' => 'Lax']);
        }
    }

    /**
     * Records a state's one-time key; false if it was used before. Atomic on the options
     * table's unique key, so two web servers cannot both accept the same state.
     */
    private static function burn(string $key, int $until): bool
    {
        global $wpdb;
        $n = $wpdb->query($wpdb->prepare(
            "INSERT IGNORE INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no')",
            self::BURN_PREFIX . substr($key, -40),
            (string) $until
        ));
        return $n === 1;
    }

    /** Drops burnt keys whose state has expired anyway (daily cron). */
    public static function purgeBurnt(): void
    {
        global $wpdb;
        $wpdb->query($wpdb->prepare(
            "DELETE FROM {$wpdb->options} WHERE option_name LIKE %s AND CAST(option_value AS UNSIGNED) < %d",
            $wpdb->esc_like(self::BURN_PREFIX) . '%',
            time()
        ));
    }

    /**
     * The OAuth callback: verify (the state, the browser's binder, the logged-in user), burn,
     * exchange, store.
     *
     * @return int|\WP_Error the doctor now connected
     */
    public static function callback(string $code, string $state, int $currentUser, ?string $binder)
    {
        $client = self::oauthClient();
        if (is_wp_error($client)) {
            return $client;
        }
        $verified = KCTCoreAccess::run(static function ($core) use ($state, $currentUser, $binder) {
            $in = ['state' => $state, 'site_key' => self::siteKey(), 'now' => time()];
            if ($currentUser > 0) {
                $in['current_user_id'] = $currentUser;
            }
            if ($binder !== null && $binder !== '') {
                $in['binder'] = $binder;
            }
            return $core->oauthVerifyState($in);
        });
        if (is_wp_error($verified)) {
            return $verified;
        }
        if (!self::burn($verified['burn_key'], (int) $verified['burn_until'])) {
            return new \WP_Error('kct_state_replayed', __('This Zoom authorization was already used; please start again.', 'kivicare-telemed-zoom'), ['status' => 400]);
        }
        $doctor = (int) $verified['user_id'];
        if (!self::isDoctor($doctor)) {
            return new \WP_Error('kct_not_a_doctor', __('Only doctors connect a Zoom account.', 'kivicare-telemed-zoom'), ['status' => 403]);
        }
        $out = KCTCoreAccess::run(static function ($core) use ($client, $code, $verified) {
            $req = $core->oauthExchangeCode($client + [
                'code' => $code,
                'redirect_uri' => KCTSettings::raw()['redirect_url'] ?: KCTSettings::callbackUrl(),
                'code_verifier' => $verified['code_verifier'],
            ]);
            return $core->apiInterpret(['operation' => 'exchange_code', 'now' => time(), 'random' => KCTCoreAccess::random(8)] + KCTHttp::send($req));
        });
        if (is_wp_error($out)) {
            return $out;
        }
        if ($out['action'] !== 'done') {
            return KCTZoomAuth::outcomeError($out);
        }
        KCTTokenStore::connect($doctor, $out['result']);
        // The scopes the doctor granted are the clinic app's: what they lack is recorded.
        \KCTApp\settings\KCTAppCheck::oauth($out['result']);
        // If Zoom cannot say now, the daily job (or a deauthorization) asks again.
        self::learnZoomUser($doctor);
        /**
         * Fires when a doctor has connected their Zoom account.
         *
         * @since 4.0.0
         * @param int $doctor_id
         */
        do_action('kct_zoom_doctor_connected', $doctor);
        return $doctor;
    }

    /**
     * Records which Zoom user a doctor connected as: a deauthorization names only that user,
     * and a visit tells the doctor from the patient by it.
     *
     * @return string|null the Zoom user id, or null when Zoom could not say
     */
    public static function learnZoomUser(int $doctorId): ?string
    {
        $me = self::testConnection($doctorId);
        $id = is_wp_error($me) ? '' : (string) ($me['id'] ?? '');
        if ($id === '') {
            return null;
        }
        update_user_meta($doctorId, KCTSite::userKey(KCTTokenStore::ZOOM_USER), $id);
        return $id;
    }

    /**
     * Asks Zoom who each doctor connected by OAuth is, where that was not learned when they
     * connected (Zoom failed the question then). Daily, and before a deauthorization that
     * names no doctor: a doctor whose grant Zoom ended has the token refused on the way, and
     * the core has it forgotten.
     *
     * @return int[] the doctors whose Zoom user is known now
     */
    public static function learnMissingZoomUsers(): array
    {
        // One query: doctors with a token set and no Zoom user recorded.
        $unknown = get_users(['fields' => 'ID', 'meta_query' => [
            ['key' => KCTSite::userKey(KCTTokenStore::META), 'compare' => 'EXISTS'],
            ['key' => KCTSite::userKey(KCTTokenStore::ZOOM_USER), 'compare' => 'NOT EXISTS'],
        ]]);
        $learned = [];
        foreach (array_map('intval', $unknown) as $doctor) {
            if (KCTTokenStore::get($doctor, true)['state'] === 'ok' && self::learnZoomUser($doctor) !== null) {
                $learned[] = $doctor;
            }
        }
        return $learned;
    }

    public static function isDoctor(int $userId): bool
    {
        $user = get_userdata($userId);
        /**
         * Filters the WordPress roles that count as doctors.
         *
         * @since 4.0.0
         */
        $roles = apply_filters('kct_zoom_doctor_roles', ['kiviCare_doctor']);
        return $user && array_intersect($roles, (array) $user->roles);
    }

    /** @return array|\WP_Error the Zoom user the doctor's meetings are hosted by */
    public static function testConnection(int $doctorId)
    {
        return KCTZoomApi::call($doctorId, 'get_user', static function ($core, $auth, $host) {
            return $core->userGet(['auth' => $auth, 'user' => $host]);
        });
    }

    /**
     * The clinic's app, tested for an administrator: a Server-to-Server app asks Zoom for a
     * token and has its scopes checked (the finding kept, as on save); an OAuth app is
     * tested by each doctor's connection.
     *
     * @return string|\WP_Error what works, and what is missing, in words
     */
    public static function testClinicApp()
    {
        $s = KCTSettings::raw();
        $secret = KCTSettings::secret('client_secret');
        if ($s['auth_type'] === 'none' || $secret === null) {
            return new \WP_Error('kct_not_configured', __('Zoom is not set up: choose the Zoom app type and enter its credentials in Settings → Zoom telemedicine.', 'kivicare-telemed-zoom'), ['status' => 409]);
        }
        if ($s['auth_type'] === 'oauth') {
            return trim(__('The clinic\'s OAuth app is set up; each doctor connects and tests their own Zoom account on their Zoom page.', 'kivicare-telemed-zoom') . ' '
                . \KCTApp\settings\KCTAppCheck::words(\KCTApp\settings\KCTAppCheck::last()));
        }
        $check = \KCTApp\settings\KCTAppCheck::s2s($s['client_id'], $secret, $s['account_id'], KCTSettings::registersPatients($s['policy']));
        if (is_wp_error($check)) {
            return $check;
        }
        if (!empty($check['unchecked'])) {
            // Zoom could not be asked: no verdict, and the finding of the last save stands.
            return new \WP_Error('kct_retry_later', \KCTApp\settings\KCTAppCheck::words($check), ['status' => 503]);
        }
        \KCTApp\settings\KCTAppCheck::record($check);
        return trim(__('Zoom accepted the clinic\'s Server-to-Server app.', 'kivicare-telemed-zoom') . ' ' . \KCTApp\settings\KCTAppCheck::words($check));
    }

    /** @return array{missing: string[]}|\WP_Error the scopes the doctor's own app lacks, once saved */
    public static function saveDoctorConfig(int $doctorId, array $in)
    {
        $current = KCTDoctorSettings::s2s($doctorId);
        // Absent, as every absent field, means as stored: a save that names no mode does not
        // switch the doctor's own app off.
        $enabled = array_key_exists('auth_type', $in) || array_key_exists('enable_server_to_server', $in)
            ? ($in['auth_type'] ?? '') === 'server-to-server' || in_array($in['enable_server_to_server'] ?? '', ['Yes', 'yes', 'true', true, 1, '1'], true)
            : $current['enabled'];
        $secret = (string) ($in['client_secret'] ?? '');
        $named = trim((string) ($in['zoom_user'] ?? ''));
        if (!$enabled && $named !== '' && $named !== (string) get_user_meta($doctorId, KCTSite::userKey(KCTDoctorSettings::ZOOM_USER), true)) {
            // Under the clinic's app a doctor cannot pick whose meetings they host.
            $message = __('Under the clinic\'s Zoom app an administrator assigns your Zoom user.', 'kivicare-telemed-zoom');
            return new \WP_Error('kct_invalid_settings', $message, ['status' => 403, 'errors' => [['code' => 'not_allowed', 'field' => 'zoom_user', 'message' => $message]]]);
        }
        $zoomUser = $named !== '' ? $named : KCTDoctorSettings::ownAppUser($doctorId);
        $accountId = trim((string) ($in['account_id'] ?? $current['account_id']));
        $clientId = trim((string) ($in['client_id'] ?? $current['client_id']));
        $report = KCTCoreAccess::run(static function ($core) use ($enabled, $secret, $current, $zoomUser, $accountId, $clientId) {
            return $core->settingsValidateDoctor([
                'auth_type' => $enabled ? 'server-to-server' : 'none',
                'account_id' => $accountId,
                'client_id' => $clientId,
                'client_secret' => $secret,
                'client_secret_stored' => $current['client_secret'] !== null,
                'stored_client_id' => $current['client_id'],
                'zoom_user' => $zoomUser,
            ]);
        });
        if (is_wp_error($report)) {
            return $report;
        }
        if (!$report['valid']) {
            return new \WP_Error('kct_invalid_settings', $report['errors'][0]['message'], ['status' => 400, 'errors' => $report['errors']]);
        }
        if ($enabled) {
            // The doctor's own app, as the form names it: Zoom must know the user in that app's
            // account before anything is stored (a refused save leaves the doctor as they were,
            // their choice of Google Meet included).
            $app = KCTZoomAuth::s2sContext($doctorId, $zoomUser, $clientId, $secret !== '' ? $secret : (string) $current['client_secret'], $accountId);
            // Found by review: a token stored for this app stood for any secret typed now, so
            // a mistyped one was saved while that token lasted. Zoom is asked with it anew.
            $token = KCTZoomAuth::fetchNew($app);
            if (is_wp_error($token)) {
                return \KCTApp\settings\KCTAppCheck::refusal($token) ?? $token;
            }
            $check = \KCTApp\settings\KCTAppCheck::ownApp($token);
            $user = KCTZoomApi::callWith($app, 'get_user', static function ($core, $auth, $host) {
                return $core->userGet(['auth' => $auth, 'user' => $host]);
            });
            if (is_wp_error($user)) {
                // The app's own credentials refused: say so at them, not at the Zoom user.
                return $user->get_error_code() === 'kct_zoom_invalid_client' ? self::appRefused() : self::hostRefused($user);
            }
        }
        KCTDoctorSettings::saveS2s($doctorId, $enabled, $accountId, $clientId, $secret);
        update_user_meta($doctorId, KCTSite::userKey(KCTDoctorSettings::ZOOM_USER), $enabled ? $zoomUser : '');
        // Saved; what the app's token lacks is said with it.
        return ['missing' => $enabled ? $check['missing'] : []];
    }

    /**
     * An administrator assigns the Zoom user that hosts a doctor's meetings under the
     * clinic-wide Server-to-Server app; Zoom must know that user in the clinic's account.
     * An empty user goes back to the doctor's own email.
     *
     * @return true|\WP_Error
     */
    public static function assignClinicHost(int $doctorId, string $zoomUser)
    {
        if (!self::isDoctor($doctorId)) {
            return new \WP_Error('kct_not_a_doctor', __('That user is not a doctor.', 'kivicare-telemed-zoom'), ['status' => 400]);
        }
        $zoomUser = trim($zoomUser);
        if ($zoomUser === '') {
            delete_user_meta($doctorId, KCTSite::userKey(KCTDoctorSettings::CLINIC_ZOOM_USER));
            return true;
        }
        $ctx = KCTZoomAuth::clinicContext($doctorId);
        if (is_wp_error($ctx)) {
            return $ctx;
        }
        $ctx['host'] = $zoomUser;
        $user = KCTZoomApi::callWith($ctx, 'get_user', static function ($core, $auth, $host) {
            return $core->userGet(['auth' => $auth, 'user' => $host]);
        });
        if (is_wp_error($user)) {
            return self::hostRefused($user);
        }
        update_user_meta($doctorId, KCTSite::userKey(KCTDoctorSettings::CLINIC_ZOOM_USER), $zoomUser);
        return true;
    }

    /** Zoom refused a Server-to-Server app's credentials: said at the client id and secret. */
    public static function appRefused(): \WP_Error
    {
        $message = __('Zoom refused this app\'s client id or client secret. Copy both again from the app\'s page in the Zoom App Marketplace.', 'kivicare-telemed-zoom');
        return new \WP_Error('kct_invalid_settings', $message, ['status' => 400, 'errors' => [
            ['code' => 'zoom_refused', 'field' => 'client_id', 'message' => $message],
            ['code' => 'zoom_refused', 'field' => 'client_secret', 'message' => $message],
        ]]);
    }

    private static function hostRefused(\WP_Error $e): \WP_Error
    {
        $message = $e->get_error_code() === 'kct_zoom_host_not_found'
            ? __('Zoom has no such user in this app\'s account.', 'kivicare-telemed-zoom')
            : $e->get_error_message();
        return new \WP_Error('kct_invalid_settings', $message, ['status' => 400, 'errors' => [['code' => 'zoom_user_unknown', 'field' => 'zoom_user', 'message' => $message]]]);
    }

    /** Revokes at Zoom (OAuth) and deletes the local tokens whatever Zoom answered. */
    public static function disconnect(int $doctorId)
    {
        self::revoke(KCTTokenStore::get($doctorId, true));
        KCTTokenStore::change($doctorId, 'disconnect');
        return true;
    }

    /** Revokes a doctor's stored OAuth grant at Zoom (best effort: the tokens go anyway). */
    public static function revoke(array $stored): void
    {
        $client = self::oauthClient();
        if ($stored['state'] === 'ok' && !is_wp_error($client)) {
            $token = $stored['token']['refresh_token'] ?? $stored['token']['access_token'];
            KCTCoreAccess::run(static function ($core) use ($client, $token) {
                return KCTHttp::send($core->oauthRevoke($client + ['token' => $token]));
            });
        }
    }

    /** What the doctor's settings page may see (never a secret). */
    public static function doctorView(int $doctorId): array
    {
        $s2s = KCTDoctorSettings::s2s($doctorId);
        $ctx = KCTZoomAuth::context($doctorId);
        $connection = KCTTokenStore::connection($doctorId);
        $mode = is_wp_error($ctx) ? 'none' : $ctx['mode'];
        return [
            // The doctor's own choice only ("use my own app"), never the clinic's mode.
            'auth_type' => $s2s['enabled'] ? 'server-to-server' : 'none',
            'clinic_auth_type' => KCTSettings::raw()['auth_type'],
            'account_id' => $s2s['account_id'],
            'client_id' => $s2s['client_id'],
            'client_secret' => '',
            'client_secret_set' => $s2s['client_secret'] !== null,
            'zoom_user' => $s2s['enabled'] ? KCTDoctorSettings::ownAppUser($doctorId) : KCTDoctorSettings::clinicAppUser($doctorId),
            'zoom_user_set_by' => $s2s['enabled'] ? 'doctor' : 'administrator',
            'is_connected' => $mode === 's2s' || $connection === 'connected',
            'connection_status' => $mode === 's2s' ? 'server_to_server' : $connection,
            'is_google_meet_connected' => get_user_meta($doctorId, 'kiviCare_google_meet_connect', true) === 'on',
            'waiting_mail' => get_user_meta($doctorId, KCTSite::userKey(\KCTApp\visits\KCTVisits::WAITING_MAIL), true) === '1',
        ];
    }
}
