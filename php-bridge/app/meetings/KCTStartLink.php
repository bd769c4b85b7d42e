<?php

namespace KCTApp\meetings;

use KCTApp\meetings\KCTMappingRepository;
use KCTApp\zoom\KCTCoreAccess;
use KCTApp\zoom\KCTZoomApi;

/**
 * The host's start link, fresh: fetched from Zoom when the stored one is older than the core
 * allows. Show it to the host only.
 */
final class KCTStartLink
{
    /** @return string|\WP_Error */
    public static function get(int $appointmentId)
    {
        $row = KCTMappingRepository::find($appointmentId);
        if ($row === null) {
            return new \WP_Error('kct_no_meeting', __('This appointment has no Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
        $link = KCTCoreAccess::run(static function ($core) use ($row) {
            return $core->mappingStartLink(['row' => $row, 'now' => time()]);
        });
        if (is_wp_error($link)) {
            return $link;
        }
        if ($link['action'] === 'fresh') {
            return $link['start_url'];
        }
        if ($link['action'] === 'unavailable') {
            return new \WP_Error('kct_no_meeting', __('This appointment has no live Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
        $meeting = KCTZoomApi::call((int) $row['doctor_id'], 'get_meeting', static function ($core, $auth) use ($link) {
            return $core->meetingGet(['auth' => $auth, 'meeting_id' => $link['zoom_id']]);
        });
        if (is_wp_error($meeting)) {
            return $meeting;
        }
        $next = $row;
        $next['start_url'] = $meeting['start_url'] ?? null;
        $next['start_url_fetched_at'] = time();
        $next['updated_at'] = time();
        // Losing this write to a concurrent one only means the next view fetches again.
        KCTMappingRepository::compareAndSwap($next, $row['version']);
        return (string) $next['start_url'];
    }
}
