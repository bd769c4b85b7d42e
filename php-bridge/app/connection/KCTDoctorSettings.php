<?php

namespace KCTApp\connection;

use KCTApp\storage\KCTEncrypted;
use KCTApp\storage\KCTSite;

/**
 * A doctor's own Zoom settings: an optional Server-to-Server app of their own (secret
 * encrypted), and the Zoom user that hosts their meetings under Server-to-Server.
 *
 * Who may name the host (found by the abuse review: a doctor named a colleague's Zoom user
 * and got the colleague's start link): with the doctor's own app, the doctor, and Zoom must
 * confirm the user belongs to that app's account; under the clinic-wide app, administrators
 * only (checked with Zoom too); otherwise the host is the doctor's own WordPress email.
 */
final class KCTDoctorSettings
{
    public const S2S = 'kct_zoom_doctor_s2s';
    /** The host of the doctor's own app (set by the doctor, verified with that app). */
    public const ZOOM_USER = 'kct_zoom_user';
    /** The host under the clinic-wide app (set by an administrator, verified with that app). */
    public const CLINIC_ZOOM_USER = 'kct_zoom_clinic_user';
    /** The flag KiviCare core matches with SQL LIKE (CONTRACT §1); never holds the secret. */
    public const LEGACY_S2S = 'zoom_server_to_server_oauth_config_data';

    /** @return array{enabled: bool, account_id: string, client_id: string, client_secret: ?string} */
    public static function s2s(int $doctorId): array
    {
        $v = KCTEncrypted::userMeta($doctorId, KCTSite::userKey(self::S2S)) ?: [];
        return [
            'enabled' => !empty($v['enabled']),
            'account_id' => (string) ($v['account_id'] ?? ''),
            'client_id' => (string) ($v['client_id'] ?? ''),
            'client_secret' => isset($v['client_secret']) && $v['client_secret'] !== '' ? (string) $v['client_secret'] : null,
        ];
    }

    public static function saveS2s(int $doctorId, bool $enabled, string $accountId, string $clientId, ?string $secret): void
    {
        $current = self::s2s($doctorId);
        $v = [
            'enabled' => $enabled,
            'account_id' => $accountId,
            'client_id' => $clientId,
            'client_secret' => $secret !== null && $secret !== '' ? $secret : (string) $current['client_secret'],
        ];
        KCTEncrypted::setUserMeta($doctorId, KCTSite::userKey(self::S2S), $v);
        update_user_meta($doctorId, self::LEGACY_S2S, wp_json_encode([
            'enableServerToServerOauthconfig' => $enabled ? 'true' : 'false',
            'account_id' => $accountId,
            'client_id' => $clientId,
        ]));
        if ($enabled) {
            update_user_meta($doctorId, 'telemed_type', 'zoom');
        }
    }

    /** The host of the doctor's own Server-to-Server app: theirs to name, else their email. */
    public static function ownAppUser(int $doctorId): string
    {
        $u = (string) get_user_meta($doctorId, KCTSite::userKey(self::ZOOM_USER), true);
        return $u !== '' ? $u : self::email($doctorId);
    }

    /** The host under the clinic-wide app: an administrator's assignment, else the doctor's email. */
    public static function clinicAppUser(int $doctorId): string
    {
        $u = (string) get_user_meta($doctorId, KCTSite::userKey(self::CLINIC_ZOOM_USER), true);
        return $u !== '' ? $u : self::email($doctorId);
    }

    private static function email(int $doctorId): string
    {
        $user = get_userdata($doctorId);
        return $user ? (string) $user->user_email : '';
    }
}
