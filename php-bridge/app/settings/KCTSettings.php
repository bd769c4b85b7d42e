<?php

namespace KCTApp\settings;

use KCTApp\storage\KCTEncrypted;
use KCTApp\security\KCTVault;
use KCTApp\zoom\KCTCoreAccess;

/**
 * The clinic's Zoom settings in the option KiviCare core reads (`kiviCare_zoom_telemed_setting`),
 * with secrets encrypted and never handed back to a page. Validation is the core's
 * (`settings.validate_admin`), the same code the settings page runs in the browser.
 */
final class KCTSettings
{
    public const OPTION = 'kiviCare_zoom_telemed_setting';
    public const S2S_FLAG = 'zoom_telemed_server_to_server_oauth_status';

    public static function defaults(): array
    {
        return [
            'enabled' => false,
            'enableCal' => 'No',
            'auth_type' => 'none',
            'client_id' => '',
            'client_secret' => '',
            'account_id' => '',
            'redirect_url' => '',
            'webhook_secret' => '',
            'webhook_secret_previous' => '',
            // When the current webhook secret replaced the previous one (the core decides
            // how long the previous one still verifies).
            'webhook_secret_rotated_at' => 0,
            'policy' => [],
            // Check patients in and out from Zoom's events (issue 16); on unless turned off.
            'check_in_from_zoom' => true,
        ];
    }

    /** Whether a policy layer (the stored one when none is given) registers patients: the registrant scope is then needed. */
    public static function registersPatients($policy = null): bool
    {
        $policy = $policy ?? self::raw()['policy'];
        return is_array($policy) && !empty($policy['register_patient']);
    }

    public static function raw(): array
    {
        $v = get_option(self::OPTION, []);
        return array_merge(self::defaults(), is_array($v) ? $v : []);
    }

    /** The OAuth callback this site serves; the app's redirect URL must equal it exactly. */
    public static function callbackUrl(): string
    {
        return rest_url('kivicare/v1/settings/zoom-telemed/callback');
    }

    public static function webhookUrl(): string
    {
        return rest_url('kivicare/v1/settings/zoom-telemed/webhook');
    }

    /** What a settings page may see: no secret, only whether one is stored. */
    public static function publicView(): array
    {
        $s = self::raw();
        return [
            'auth_type' => $s['auth_type'],
            'client_id' => $s['client_id'],
            'client_secret' => '',
            'client_secret_set' => $s['client_secret'] !== '',
            'account_id' => $s['account_id'],
            'redirect_url' => $s['redirect_url'] !== '' ? $s['redirect_url'] : self::callbackUrl(),
            'expected_redirect_url' => self::callbackUrl(),
            'webhook_url' => self::webhookUrl(),
            'webhook_secret' => '',
            'webhook_secret_set' => $s['webhook_secret'] !== '',
            'server_to_server_enabled' => $s['auth_type'] === 'server-to-server' ? 'Yes' : 'No',
            'enabled' => (bool) $s['enabled'],
            'policy' => $s['policy'] ?: new \stdClass(),
            'delete_data_on_uninstall' => (bool) get_option(\KCTApp\database\KCTUninstaller::OPT_IN, false),
            'check_in_from_zoom' => (bool) $s['check_in_from_zoom'],
            // What Zoom said of the app at the last save (missing scopes), in words.
            'app_check' => KCTAppCheck::words(KCTAppCheck::last()),
        ];
    }

    /**
     * What `webhook.handle` needs to verify a delivery: the current secret ('' when none is
     * stored or it cannot be read) and the one it replaced, with when it was replaced.
     *
     * @return array{secrets: string[], rotated_at: int|null}
     */
    public static function webhookSecrets(): array
    {
        $raw = self::raw();
        $secrets = [(string) self::secret('webhook_secret')];
        $rotatedAt = (int) $raw['webhook_secret_rotated_at'];
        if ($raw['webhook_secret_previous'] !== '' && $rotatedAt > 0) {
            $secrets[] = (string) self::secret('webhook_secret_previous');
        }
        return ['secrets' => $secrets, 'rotated_at' => count($secrets) > 1 ? $rotatedAt : null];
    }

    /** A stored secret in plain text, or null when absent or undecryptable. */
    public static function secret(string $key): ?string
    {
        $v = self::raw()[$key] ?? '';
        $plain = KCTEncrypted::openText($v);
        return is_string($plain) ? $plain : null;
    }

    /**
     * Validates and stores. An empty secret keeps the stored one.
     *
     * @return true|\WP_Error
     */
    public static function save(array $in)
    {
        $current = self::raw();
        $authType = (string) ($in['auth_type'] ?? $current['auth_type']);
        if (($in['server_to_server_enabled'] ?? '') === 'Yes') {
            $authType = 'server-to-server';
        }
        $next = [
            'auth_type' => $authType,
            'client_id' => trim((string) ($in['client_id'] ?? $current['client_id'])),
            'client_secret' => (string) ($in['client_secret'] ?? ''),
            'account_id' => trim((string) ($in['account_id'] ?? $current['account_id'])),
            'redirect_url' => (string) ($in['redirect_url'] ?? ($current['redirect_url'] ?: self::callbackUrl())),
            'webhook_secret' => (string) ($in['webhook_secret'] ?? ''),
        ];
        $report = KCTCoreAccess::run(static function ($core) use ($next, $current) {
            return $core->settingsValidateAdmin([
                'auth_type' => $next['auth_type'],
                'client_id' => $next['client_id'],
                'client_secret' => $next['client_secret'],
                'client_secret_stored' => $current['client_secret'] !== '',
                'stored_client_id' => $current['client_id'],
                'account_id' => $next['account_id'],
                'redirect_url' => $next['redirect_url'],
                'expected_redirect_url' => $next['auth_type'] === 'oauth' ? self::callbackUrl() : '',
                'webhook_secret' => $next['webhook_secret'],
                'webhook_secret_stored' => $current['webhook_secret'] !== '',
            ]);
        });
        if (is_wp_error($report)) {
            return $report;
        }
        $policy = $in['policy'] ?? $current['policy'];
        if (is_array($policy) && $policy !== []) {
            $check = KCTCoreAccess::run(static function ($core) use ($policy) {
                return $core->policyValidate($policy);
            });
            if (is_wp_error($check)) {
                return $check;
            }
            $report['errors'] = array_merge($report['errors'], $check['errors']);
            $report['valid'] = $report['valid'] && $check['valid'];
        }
        if (!$report['valid']) {
            return new \WP_Error('kct_invalid_settings', $report['errors'][0]['message'], ['status' => 400, 'errors' => $report['errors']]);
        }
        // A Server-to-Server app is asked for a token before anything is stored: one Zoom
        // refuses is not saved, and the scopes its token carries are checked.
        $check = null;
        if ($next['auth_type'] === 'server-to-server') {
            $secret = $next['client_secret'] !== '' ? $next['client_secret'] : (string) self::secret('client_secret');
            $check = KCTAppCheck::s2s($next['client_id'], $secret, $next['account_id'], self::registersPatients($policy));
            if (is_wp_error($check)) {
                return $check;
            }
        }
        $stored = $current;
        $stored['auth_type'] = $next['auth_type'];
        $stored['client_id'] = $next['client_id'];
        $stored['account_id'] = $next['account_id'];
        $stored['redirect_url'] = $next['redirect_url'];
        $stored['policy'] = is_array($policy) ? $policy : [];
        if ($next['client_secret'] !== '') {
            $stored['client_secret'] = KCTEncrypted::sealText($next['client_secret']);
            // The clinic's secret entered again under the current key: that key is the one now.
            KCTVault::acceptCurrentKey();
        }
        if ($next['webhook_secret'] !== '') {
            // Keep the previous secret so Zoom's in-flight deliveries still verify (for as
            // long as the core says, counted from now).
            if ($current['webhook_secret'] !== '') {
                $stored['webhook_secret_previous'] = $current['webhook_secret'];
                $stored['webhook_secret_rotated_at'] = time();
            }
            $stored['webhook_secret'] = KCTEncrypted::sealText($next['webhook_secret']);
        }
        if (array_key_exists('check_in_from_zoom', $in)) {
            $stored['check_in_from_zoom'] = (bool) $in['check_in_from_zoom'];
        }
        if (array_key_exists('delete_data_on_uninstall', $in)) {
            update_option(\KCTApp\database\KCTUninstaller::OPT_IN, (bool) $in['delete_data_on_uninstall'], false);
        }
        $configured = $stored['auth_type'] !== 'none';
        $stored['enabled'] = $configured;
        // The legacy flags KiviCare core reads directly (CONTRACT §1).
        $stored['enableCal'] = $configured ? 'Yes' : 'No';
        // Autoloaded (KCTMigration0006AutoloadSettings): read on every request that builds
        // the provider; the secrets are sealed.
        [$settings, $flag] = self::autoloadedOptions();
        update_option($settings, $stored, true);
        update_option($flag, $stored['auth_type'] === 'server-to-server' ? 'Yes' : 'No', true);
        // An OAuth app is checked when doctors connect: that finding stands while the app does.
        if ($check !== null || $next['auth_type'] !== $current['auth_type'] || $next['client_id'] !== $current['client_id']) {
            KCTAppCheck::record($check);
        }
        return true;
    }

    /** @return string[] the settings option and KiviCare's S2S flag: autoloaded */
    public static function autoloadedOptions(): array
    {
        $prefix = defined('KIVICARE_TELEMED_PREFIX') ? KIVICARE_TELEMED_PREFIX : 'kiviCare_';
        return [self::OPTION, $prefix . self::S2S_FLAG];
    }

    /** Zoom's OAuth origin: https://zoom.us unless tests or the demo point elsewhere. */
    public static function oauthBase(): ?string
    {
        $base = defined('KCT_ZOOM_OAUTH_BASE') ? (string) KCT_ZOOM_OAUTH_BASE : null;
        /**
         * Filters the Zoom OAuth origin (tests and demos only; production talks to zoom.us).
         *
         * @since 4.0.0
         * @param string|null $base null for Zoom's own origin.
         */
        return apply_filters('kct_zoom_oauth_base', $base);
    }
}
