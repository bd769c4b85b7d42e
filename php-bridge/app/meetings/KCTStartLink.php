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
        $link = self::decide($row, null);
        if (!is_wp_error($link) && $link['action'] === 'fetch') {
            $meeting = KCTZoomApi::call((int) $row['doctor_id'], 'get_meeting', static function ($core, $auth) use ($link) {
                return $core->meetingGet(['auth' => $auth, 'meeting_id' => $link['zoom_id']]);
            });
            if (is_wp_error($meeting)) {
                return $meeting;
            }
            $link = self::decide($row, (string) ($meeting['start_url'] ?? ''));
        }
        if (is_wp_error($link)) {
            return $link;
        }
        switch ($link['action']) {
            case 'store':
                KCTMappingRepository::compareAndSwap($link['write'], $row['version']);
                return (string) $link['write']['start_url'];
            case 'fresh':
                return $link['start_url'];
            default:
                return new \WP_Error('kct_no_meeting', __('This appointment has no live Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
    }

    /** @return array|\WP_Error the core's answer (`mapping.start_link`) */
    private static function decide(array $row, ?string $fetched)
    {
        return KCTCoreAccess::run(static function ($core) use ($row, $fetched) {
            $in = ['row' => $row, 'now' => time()];
            if ($fetched !== null) {
                $in['fetched_start_url'] = $fetched;
            }
            return $core->mappingStartLink($in);
        });
    }
}
