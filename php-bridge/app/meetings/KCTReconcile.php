<?php

namespace KCTApp\meetings;

use KCTApp\auth\KCTZoomAuth;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTZoomApi;

/**
 * The nightly reconcile: every upcoming meeting is checked against Zoom by the core's
 * lifecycle step (intent `verify`: made again if Zoom lost it, moved back if its time
 * drifted), and the meetings at Zoom that carry our reference but belong to no appointment
 * any more are deleted (`reconcile.orphans`). The counts are kept for Site Health.
 */
final class KCTReconcile
{
    public const LAST = 'kct_zoom_reconcile_last';
    /** Pages of a host's meetings read at most (300 meetings a page). */
    public const MAX_PAGES = 50;

    /** @return array{at: int, verified: int, recreated: int, moved: int, orphans_deleted: int, failed: int} */
    public static function run(): array
    {
        $counts = ['at' => time(), 'verified' => 0, 'recreated' => 0, 'moved' => 0, 'orphans_deleted' => 0, 'failed' => 0];
        foreach (KCTMappingRepository::liveUpcoming(time()) as $id) {
            $out = KCTMeetingLoop::run($id, 'verify');
            $counts['verified']++;
            if (is_wp_error($out) || ($out['effect']['result'] ?? '') === 'failed') {
                $counts['failed']++;
                continue;
            }
            // The core names what happened: a meeting made again, or moved back.
            $counts['recreated'] += (int) in_array('meeting_created', $out['events'], true);
            $counts['moved'] += (int) in_array('meeting_moved', $out['events'], true);
        }
        foreach (KCTMappingRepository::doctorsWithRows() as $doctor) {
            // A deleted doctor's account is reachable only while their connection is kept.
            if (\KCTApp\connection\KCTDepartedDoctors::reachable($doctor)) {
                $counts['orphans_deleted'] += self::deleteOrphans($doctor);
            }
        }
        update_option(self::LAST, $counts, false);
        return $counts;
    }

    private static function deleteOrphans(int $doctor): int
    {
        $ctx = KCTZoomAuth::context($doctor);
        if (is_wp_error($ctx)) {
            return 0;
        }
        $meetings = [];
        $page = '';
        for ($i = 0; $i < self::MAX_PAGES; $i++) {
            $list = KCTZoomApi::call($doctor, 'list_meetings', static function ($core, $auth, $host) use ($page) {
                $in = ['auth' => $auth, 'host' => $host];
                if ($page !== '') {
                    $in['next_page_token'] = $page;
                }
                return $core->meetingList($in);
            });
            if (is_wp_error($list)) {
                return 0; // Not a complete picture: delete nothing.
            }
            $meetings = array_merge($meetings, $list['meetings']);
            $page = (string) ($list['next_page_token'] ?? '');
            if ($page === '') {
                break;
            }
        }
        $orphans = KCTCoreAccess::run(static function ($core) use ($meetings) {
            return $core->reconcileOrphans([
                'meetings' => $meetings,
                'known_meetings' => KCTMappingRepository::knownZoomIds(),
                'open_refs' => KCTMappingRepository::openReferences(),
            ]);
        });
        if (is_wp_error($orphans)) {
            return 0;
        }
        $deleted = 0;
        foreach ($orphans['delete'] as $zoomId) {
            $r = KCTZoomApi::call($doctor, 'delete_meeting', static function ($core, $auth) use ($zoomId) {
                return $core->meetingDelete(['auth' => $auth, 'meeting_id' => $zoomId]);
            });
            if (!is_wp_error($r) || $r->get_error_code() === 'kct_meeting_gone') {
                $deleted++;
            }
        }
        return $deleted;
    }
}
