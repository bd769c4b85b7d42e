<?php

namespace KCTApp\settings;

use KCTApp\auth\KCTZoomAuth;
use KCTApp\zoom\KCTCoreAccess;

/**
 * The clinic's Zoom app, checked by the scopes of the tokens Zoom issues it: a
 * Server-to-Server app when its settings are saved (Zoom must issue it a token, else nothing
 * is saved), an OAuth app when a doctor connects. The core compares the token's scopes with
 * those its calls need; what it found is kept (an option) for the settings page and Site
 * Health, until the next save or connection.
 */
final class KCTAppCheck
{
    public const OPTION = 'kct_zoom_app_check';

    /**
     * @return array{at: int, missing: string[], unchecked: ?string}|\WP_Error a refusal by
     *         Zoom of the app's credentials (save nothing); else what the check found
     */
    public static function s2s(string $clientId, string $secret, string $accountId, bool $registerPatient)
    {
        $ctx = KCTZoomAuth::s2sContext(0, '', $clientId, $secret, $accountId);
        $token = KCTZoomAuth::fetchNew($ctx);
        if (is_wp_error($token)) {
            // Zoom or the network failing us is no verdict on the app: saved, said.
            return self::refusal($token) ?? ['at' => time(), 'mode' => 'server-to-server', 'missing' => [], 'unchecked' => $token->get_error_message()];
        }
        return self::of('server-to-server', $token, $registerPatient);
    }

    /**
     * Zoom's refusal of a Server-to-Server app's credentials, said at the field at fault; null
     * when the failure is no verdict on them (Zoom or the network failing).
     */
    public static function refusal(\WP_Error $e): ?\WP_Error
    {
        switch ($e->get_error_code()) {
            case 'kct_zoom_invalid_client':
                return \KCTApp\connection\KCTConnect::appRefused();
            case 'kct_zoom_account_invalid':
                $message = sprintf(
                    /* translators: %s: Zoom's own words */
                    __('Zoom refused this app\'s account id (%s). Copy the Account ID again from the app\'s page in the Zoom App Marketplace.', 'kivicare-telemed-zoom'),
                    $e->get_error_message()
                );
                return new \WP_Error('kct_invalid_settings', $message, ['status' => 400, 'errors' => [
                    ['code' => 'zoom_refused', 'field' => 'account_id', 'message' => $message],
                ]]);
            case 'kct_zoom_token_error':
                // Another refusal by Zoom's token endpoint: a verdict all the same, in its words.
                return new \WP_Error('kct_invalid_settings', sprintf(
                    /* translators: %s: Zoom's own words */
                    __('Zoom refused this app: %s', 'kivicare-telemed-zoom'),
                    $e->get_error_message()
                ), ['status' => 400]);
            default:
                return null;
        }
    }

    /** What a doctor's own app's token lacks (not recorded: the app is the doctor's). */
    public static function ownApp(array $token): array
    {
        return self::of('server-to-server', $token, KCTSettings::registersPatients());
    }

    /**
     * A doctor's OAuth token, just issued: what it lacks is the clinic's app's (scopes are
     * set on the app), so it is recorded for the administrators and shown to the doctor.
     */
    public static function oauth(array $token): array
    {
        $check = self::of('oauth', $token, KCTSettings::registersPatients());
        self::record($check);
        return $check;
    }

    /** What the core finds a token's scopes lack in a mode. */
    private static function of(string $mode, array $token, bool $registerPatient): array
    {
        $check = ['at' => time(), 'mode' => $mode, 'missing' => [], 'unchecked' => null];
        if (!isset($token['scope'])) {
            return $check; // Zoom named no scopes: nothing to compare
        }
        $missing = KCTCoreAccess::run(static function ($core) use ($mode, $registerPatient, $token) {
            return $core->appMissingScopes(['auth_type' => $mode, 'register_patient' => $registerPatient, 'granted' => (string) $token['scope']]);
        });
        if (is_wp_error($missing)) {
            return ['unchecked' => $missing->get_error_message()] + $check;
        }
        return ['missing' => $missing] + $check;
    }

    /** What the last save's check found (null: no check, the clinic's mode is not Server-to-Server). */
    public static function last(): ?array
    {
        $c = get_option(self::OPTION, null);
        return is_array($c) ? $c : null;
    }

    public static function record(?array $check): void
    {
        if ($check === null) {
            delete_option(self::OPTION);
        } else {
            update_option(self::OPTION, $check, false);
        }
    }

    /** The check in words for the administrator ('' when all is well or nothing was checked). */
    public static function words(?array $check): string
    {
        if ($check === null) {
            return '';
        }
        if (!empty($check['missing']) && ($check['mode'] ?? '') === 'oauth') {
            return sprintf(
                /* translators: %s: Zoom scopes, space-separated */
                __('The Zoom app lacks these scopes (as a doctor\'s connection showed), so some of its calls will be refused: %s. Add them to the app in the Zoom App Marketplace; each doctor then connects Zoom again.', 'kivicare-telemed-zoom'),
                implode(' ', $check['missing'])
            );
        }
        if (!empty($check['missing'])) {
            return sprintf(
                /* translators: %s: Zoom scopes, space-separated */
                __('The Zoom app lacks these scopes, so some of its calls will be refused: %s. Add them to the app in the Zoom App Marketplace, then save here again.', 'kivicare-telemed-zoom'),
                implode(' ', $check['missing'])
            );
        }
        if (!empty($check['unchecked'])) {
            return ($check['mode'] ?? '') === 'oauth'
                /* translators: %s: why */
                ? sprintf(__('The Zoom app\'s scopes could not be checked (%s); they are checked again at the next doctor\'s connection.', 'kivicare-telemed-zoom'), $check['unchecked'])
                /* translators: %s: why */
                : sprintf(__('Zoom could not be asked about the app (%s); it is asked again at the next save.', 'kivicare-telemed-zoom'), $check['unchecked']);
        }
        return '';
    }
}
