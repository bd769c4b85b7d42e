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
    /**
     * @param bool $verified the lifecycle has just verified the meeting (ask it once only)
     * @return string|\WP_Error
     */
    public static function get(int $appointmentId, bool $verified = false)
    {
        $row = KCTMappingRepository::find($appointmentId);
        if ($row === null) {
            return new \WP_Error('kct_no_meeting', __('This appointment has no Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
        $link = self::decide($row, []);
        $meeting = null;
        if (!is_wp_error($link) && $link['action'] === 'fetch') {
            $meeting = KCTZoomApi::call((int) $row['doctor_id'], 'get_meeting', static function ($core, $auth) use ($link) {
                return $core->meetingGet(['auth' => $auth, 'meeting_id' => $link['zoom_id']]);
            });
            $gone = is_wp_error($meeting) && $meeting->get_error_code() === 'kct_meeting_gone';
            if (is_wp_error($meeting) && !$gone) {
                return $meeting;
            }
            $link = self::decide($row, $gone ? ['meeting_gone' => true] : ['fetched_start_url' => (string) ($meeting['start_url'] ?? '')]);
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
            case 'verify':
                if ($verified) {
                    // Zoom lost the meeting the lifecycle just made: say what the fetch found.
                    return $meeting;
                }
                $out = KCTMeetingLoop::run($appointmentId, 'verify');
                return is_wp_error($out) ? $out : self::get($appointmentId, true);
            default:
                return new \WP_Error('kct_no_meeting', __('This appointment has no live Zoom meeting.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
    }

    /**
     * @param array $fetched what the fetch found: `fetched_start_url`, or `meeting_gone`
     * @return array|\WP_Error the core's answer (`mapping.start_link`)
     */
    private static function decide(array $row, array $fetched)
    {
        return KCTCoreAccess::run(static function ($core) use ($row, $fetched) {
            return $core->mappingStartLink(['row' => $row, 'now' => time()] + $fetched);
        });
    }
}
