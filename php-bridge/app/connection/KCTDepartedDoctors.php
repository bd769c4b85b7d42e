<?php

namespace KCTApp\connection;

use KCTApp\auth\KCTTokenStore;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\storage\KCTSite;

/**
 * A doctor's WordPress user deleted: by KiviCare's doctor delete, after it asked to cancel
 * each of their appointments (CONTRACT §3 E), or in WordPress alone, where KiviCare keeps the
 * appointments. Their Zoom data (tokens, own app, Zoom user) would go with the user, and with
 * it the only way to reach their meetings: a delete Zoom failed at first, or the cancellation
 * of an appointment still to come, never reached Zoom. The core decides (`connection.change`,
 * `user_deleted`): kept data stays under the deleted user's id, which an option lists, until
 * the nightly check finds nothing that needs it; forgotten data has its grant revoked at Zoom
 * first, since nobody is left to disconnect it.
 */
final class KCTDepartedDoctors
{
    /** The deleted doctors whose Zoom data is kept (user ids), for the nightly check. */
    public const OPTION = 'kct_zoom_departed_doctors';
    /** What the addon's per-doctor user meta keys hold (a site's prefix may come before). */
    private const OURS = 'kct_zoom_';

    /** @var array<int, true> users deleted in this request whose Zoom data is kept */
    private static $keeping = [];

    public static function register(): void
    {
        add_action('delete_user', [self::class, 'leaving'], 10, 1);
        // A network's own deletion fires no `delete_user`: each site's data is asked for.
        add_action('wpmu_delete_user', static function ($userId): void {
            KCTSite::each(static function () use ($userId): void {
                self::leaving($userId);
            });
        }, 10, 1);
        add_filter('delete_user_metadata_by_mid', [self::class, 'keepMeta'], 10, 2);
        add_action('kct_zoom_daily', [self::class, 'check'], 30);
    }

    /** `delete_user`, `wpmu_delete_user`: fire before WordPress deletes the user's meta. */
    public static function leaving($userId): void
    {
        $id = (int) $userId;
        if (!self::hasZoomData($id)) {
            return;
        }
        if (KCTTokenStore::depart($id, KCTMappingRepository::needsOfDoctor($id, time()))) {
            self::$keeping[$id] = true;
            $listed = self::listed();
            $listed[$id] = $id;
            update_option(self::OPTION, array_values($listed), false);
        }
    }

    /** Skips WordPress's deletion of a kept doctor's Zoom data (its other meta goes). */
    public static function keepMeta($check, $metaId)
    {
        if ($check !== null || self::$keeping === []) {
            return $check;
        }
        $meta = get_metadata_by_mid('user', (int) $metaId);
        if ($meta && isset(self::$keeping[(int) $meta->user_id]) && strpos((string) $meta->meta_key, self::OURS) !== false) {
            return false;
        }
        return $check;
    }

    /**
     * Nightly, after the reconcile (which also clears the departed doctors' own orphans): asks
     * again for each kept doctor who is gone from this site; data no longer kept goes.
     *
     * @return int[] the doctors whose data went
     */
    public static function check(): array
    {
        $gone = [];
        $listed = self::listed();
        foreach ($listed as $id) {
            if (get_userdata($id) !== false && (!is_multisite() || is_user_member_of_blog($id))) {
                unset($listed[$id]); // not deleted after all
                continue;
            }
            if (KCTTokenStore::depart($id, KCTMappingRepository::needsOfDoctor($id, time()))) {
                continue;
            }
            global $wpdb;
            $wpdb->query($wpdb->prepare(
                "DELETE FROM {$wpdb->usermeta} WHERE user_id = %d AND (meta_key LIKE %s OR meta_key = %s)",
                $id,
                '%' . $wpdb->esc_like(self::OURS) . '%',
                KCTTokenStore::CONNECTED_FLAG
            ));
            wp_cache_delete($id, 'user_meta');
            unset($listed[$id]);
            $gone[] = $id;
        }
        update_option(self::OPTION, array_values($listed), false);
        return $gone;
    }

    /** Whether the doctor's Zoom account can still be reached: their user exists, or their connection is kept. */
    public static function reachable(int $doctorId): bool
    {
        return get_userdata($doctorId) !== false || isset(self::listed()[$doctorId]);
    }

    /** @return array<int, int> */
    private static function listed(): array
    {
        $ids = array_map('intval', (array) get_option(self::OPTION, []));
        return $ids === [] ? [] : array_combine($ids, $ids);
    }

    private static function hasZoomData(int $userId): bool
    {
        global $wpdb;
        return (bool) $wpdb->get_var($wpdb->prepare(
            "SELECT 1 FROM {$wpdb->usermeta} WHERE user_id = %d AND meta_key LIKE %s LIMIT 1",
            $userId,
            '%' . $wpdb->esc_like(self::OURS) . '%'
        ));
    }
}
