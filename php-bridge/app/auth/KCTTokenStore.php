<?php

namespace KCTApp\auth;

use KCTApp\storage\KCTEncrypted;
use KCTApp\storage\KCTSite;
use KCTApp\storage\KCTSideDb;
use KCTApp\zoom\KCTCoreAccess;

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
        $read = self::read($doctorId);
        if ($read['state'] === 'undecryptable') {
            // Fail closed: a token we cannot read means "connect again", never a crash.
            self::change($doctorId, 'undecryptable', 'undecryptable');
        }
        return $read;
    }

    /** @return array{state: string, token: ?array} what is stored, as get() says it, nothing recorded */
    private static function read(int $doctorId): array
    {
        $token = KCTEncrypted::sideUserMeta($doctorId, KCTSite::userKey(self::META));
        $state = $token === null ? 'none' : ($token === false ? 'undecryptable' : 'ok');
        return ['state' => $state, 'token' => is_array($token) ? $token : null];
    }

    /** Stores a doctor's token set (a new grant's, or one Zoom just renewed). */
    public static function put(int $doctorId, array $token, ?string $zoomUserId = null): void
    {
        KCTEncrypted::setSideUserMeta($doctorId, KCTSite::userKey(self::META), $token);
        self::change($doctorId, 'stored', 'ok');
        update_user_meta($doctorId, self::CONNECTED_FLAG, 'on');
        if ($zoomUserId !== null) {
            update_user_meta($doctorId, KCTSite::userKey(self::ZOOM_USER), $zoomUserId);
        }
    }

    /**
     * A doctor's new grant: stored, and KiviCare told that Zoom is their telemedicine now
     * (CONTRACT §1). Only here, not at a renewal: a doctor who later chose Google Meet keeps
     * it when a Zoom token of theirs is renewed. The Zoom user recorded for an earlier grant
     * is forgotten: the new grant may be another Zoom account, and a deauthorization naming
     * the earlier one would end this one (KCTConnect learns the new one).
     */
    public static function connect(int $doctorId, array $token): void
    {
        delete_user_meta($doctorId, KCTSite::userKey(self::ZOOM_USER));
        self::put($doctorId, $token);
        update_user_meta($doctorId, 'telemed_type', 'zoom');
        // KiviCare's dashboard warns when both are on; connecting Zoom switches Meet off.
        update_user_meta($doctorId, 'kiviCare_google_meet_connect', 'off');
    }

    /**
     * The recorded states the core counts as broken (`connection.rs`: connect again, and the
     * doctor was told), for queries such as Site Health's; a bridge test holds the two together.
     */
    public const BROKEN = ['reconnect_required', 'deauthorized'];

    /**
     * Moves the doctor's connection on as the core decides (`connection.change`): forgets
     * the token set, records the state, and tells the doctor and the administrators when the
     * connection just broke (once).
     *
     * @param string      $event  stored | undecryptable | reauthorize | disconnect | deauthorized (user_deleted: see depart())
     * @param string|null $stored what the store holds (none | ok | undecryptable); read when null
     * @return string|\WP_Error the state recorded
     */
    public static function change(int $doctorId, string $event, ?string $stored = null)
    {
        $key = KCTSite::userKey(self::STATE);
        $before = (string) get_user_meta($doctorId, $key, true);
        $stored = $stored ?? self::read($doctorId)['state'];
        $next = KCTCoreAccess::run(static function ($core) use ($before, $event, $stored) {
            return $core->connectionChange(['event' => $event, 'stored' => $stored] + ($before !== '' ? ['before' => $before] : []));
        });
        if (is_wp_error($next)) {
            if ($event === 'disconnect' || $event === 'deauthorized') {
                // A revocation the doctor or Zoom asked for never waits for the core.
                self::forgetTokens($doctorId);
            }
            return $next;
        }
        if ($next['forget']) {
            self::forgetTokens($doctorId);
        }
        if ($next['state'] !== $before) {
            update_user_meta($doctorId, $key, $next['state']);
        }
        if ($next['alert']) {
            \KCTApp\connection\KCTConnectionAlert::send($doctorId, $next['state']);
        }
        return $next['state'];
    }

    /**
     * The doctor's user is being deleted, or was while their meetings owed Zoom a change:
     * the core decides (`connection.change`, `user_deleted`) whether their Zoom data is kept
     * past the deletion. When it is not, the grant is revoked at Zoom and the tokens go.
     * Without the core it is kept, and the nightly check asks again.
     *
     * @param array{owed: bool, upcoming: bool} $needs what the doctor's rows still need
     *        their connection for (KCTMappingRepository::needsOfDoctor)
     * @return bool whether the doctor's Zoom data is kept
     */
    public static function depart(int $doctorId, array $needs): bool
    {
        $before = (string) get_user_meta($doctorId, KCTSite::userKey(self::STATE), true);
        $stored = self::read($doctorId);
        $next = KCTCoreAccess::run(static function ($core) use ($before, $stored, $needs) {
            return $core->connectionChange(['event' => 'user_deleted', 'stored' => $stored['state']] + $needs
                + ($before !== '' ? ['before' => $before] : []));
        });
        if (is_wp_error($next) || !empty($next['keep'])) {
            return true;
        }
        if ($next['forget']) {
            \KCTApp\connection\KCTConnect::revoke($stored);
            self::forgetTokens($doctorId);
        }
        return false;
    }

    private static function forgetTokens(int $doctorId): void
    {
        KCTSideDb::deleteUserMeta($doctorId, KCTSite::userKey(self::META));
        update_user_meta($doctorId, self::CONNECTED_FLAG, 'off');
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

    /**
     * @return int[] doctors connected as this Zoom user, a deleted doctor whose connection is
     *               kept included (a user query finds only users that exist)
     */
    public static function doctorsForZoomUser(string $zoomUserId): array
    {
        global $wpdb;
        return array_map('intval', $wpdb->get_col($wpdb->prepare(
            "SELECT DISTINCT user_id FROM {$wpdb->usermeta} WHERE meta_key = %s AND meta_value = %s",
            KCTSite::userKey(self::ZOOM_USER),
            $zoomUserId
        )));
    }
}
