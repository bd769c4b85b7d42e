<?php

namespace KCTApp\auth;

use KCTApp\storage\KCTEncrypted;
use KCTApp\storage\KCTSite;
use KCTApp\storage\KCTSideDb;

/**
 * Doctors' OAuth token sets, encrypted in user meta, and the flags KiviCare core reads to
 * know a doctor is connected (CONTRACT §1). The token set is read and written through the
 * side connection (KCTSideDb): a rotated refresh token is committed when Zoom issues it, even
 * inside KiviCare's booking transaction, and every read sees the latest one.
 */
final class KCTTokenStore
{
    public const META = 'kct_zoom_oauth_tokens';
    public const STATE = 'kct_zoom_connection';
    public const ZOOM_USER = 'kct_zoom_user_id';
    public const CONNECTED_FLAG = 'kiviCare_zoom_telemed_connect';

    /** @return array{state: string, token: ?array} state: none | ok | undecryptable */
    public static function get(int $doctorId, bool $fresh = false): array
    {
        $token = KCTEncrypted::sideUserMeta($doctorId, KCTSite::userKey(self::META));
        if ($token === null) {
            return ['state' => 'none', 'token' => null];
        }
        if ($token === false) {
            // Fail closed: a token we cannot read means "connect again", never a crash.
            self::setState($doctorId, 'reconnect_required');
            return ['state' => 'undecryptable', 'token' => null];
        }
        return ['state' => 'ok', 'token' => $token];
    }

    public static function put(int $doctorId, array $token, ?string $zoomUserId = null): void
    {
        KCTEncrypted::setSideUserMeta($doctorId, KCTSite::userKey(self::META), $token);
        self::setState($doctorId, 'connected');
        update_user_meta($doctorId, self::CONNECTED_FLAG, 'on');
        update_user_meta($doctorId, 'telemed_type', 'zoom');
        // KiviCare's dashboard warns when both are on; connecting Zoom switches Meet off.
        update_user_meta($doctorId, 'kiviCare_google_meet_connect', 'off');
        if ($zoomUserId !== null) {
            update_user_meta($doctorId, KCTSite::userKey(self::ZOOM_USER), $zoomUserId);
        }
    }

    /** Forgets the tokens; `$state` says why (disconnected, reconnect_required, deauthorized). */
    public static function forget(int $doctorId, string $state): void
    {
        KCTSideDb::deleteUserMeta($doctorId, KCTSite::userKey(self::META));
        self::setState($doctorId, $state);
        update_user_meta($doctorId, self::CONNECTED_FLAG, 'off');
    }

    /** States in which the doctor must connect Zoom again (their meetings cannot be made). */
    public const BROKEN = ['reconnect_required', 'deauthorized'];

    /**
     * Records the connection's state; when it breaks (it was not broken before), the doctor
     * and the administrators are told once, with the way to reconnect.
     */
    public static function setState(int $doctorId, string $state): void
    {
        $before = (string) get_user_meta($doctorId, KCTSite::userKey(self::STATE), true);
        if ($before === $state) {
            return;
        }
        update_user_meta($doctorId, KCTSite::userKey(self::STATE), $state);
        if (in_array($state, self::BROKEN, true) && !in_array($before, self::BROKEN, true)) {
            \KCTApp\connection\KCTConnectionAlert::send($doctorId, $state);
        }
    }

    public static function connection(int $doctorId): string
    {
        // Reading the tokens is what notices one that no longer decrypts.
        self::get($doctorId);
        $s = get_user_meta($doctorId, KCTSite::userKey(self::STATE), true);
        return is_string($s) && $s !== '' ? $s : 'not_connected';
    }

    /**
     * Reads every stored token set once: one that no longer decrypts (the key changed) puts
     * its doctor in "reconnect", and they and the administrators are told. Daily, and when
     * the key is found changed.
     *
     * @return int[] the doctors who must reconnect
     */
    public static function checkAll(): array
    {
        $broken = [];
        foreach (get_users(['meta_key' => KCTSite::userKey(self::META), 'fields' => 'ID']) as $id) {
            if (self::get((int) $id, true)['state'] === 'undecryptable') {
                $broken[] = (int) $id;
            }
        }
        return $broken;
    }

    /** @return int[] doctors connected as this Zoom user */
    public static function doctorsForZoomUser(string $zoomUserId): array
    {
        return array_map('intval', get_users(['meta_key' => KCTSite::userKey(self::ZOOM_USER), 'meta_value' => $zoomUserId, 'fields' => 'ID']));
    }
}
