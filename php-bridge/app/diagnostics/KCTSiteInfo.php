<?php

namespace KCTApp\diagnostics;

use KCTApp\admin\KCTStatusWords;
use KCTApp\connection\KCTDepartedDoctors;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\meetings\KCTQueue;
use KCTApp\meetings\KCTReconcile;
use KCTApp\settings\KCTSettings;
use KCTApp\wasm\KCTWasmLoader;

/**
 * The addon's section of Site Health → Info, which an administrator copies into a support
 * request: versions, the runtime, the Zoom app's mode, the queue, and counts of meetings and
 * connections. Nothing here is a secret, a link or a person's name.
 */
final class KCTSiteInfo
{
    public static function register(): void
    {
        add_filter('debug_information', [self::class, 'section']);
    }

    /** @param array $info Site Health's sections */
    public static function section($info): array
    {
        $info = is_array($info) ? $info : [];
        $now = time();
        $s = KCTSettings::raw();
        $runtime = KCTWasmLoader::status();
        $modes = [
            'oauth' => __('OAuth: each doctor connects their own Zoom account', 'kivicare-telemed-zoom'),
            'server-to-server' => __('Server-to-Server: the clinic\'s Zoom account', 'kivicare-telemed-zoom'),
        ];
        // The webhook check's own words when it is set up (its last verified delivery).
        $webhook = KCTDiagnostics::webhook();
        $fields = [
            'version' => [__('Version', 'kivicare-telemed-zoom'), KIVICARE_TELEMED_VERSION],
            'runtime' => [__('Zoom core', 'kivicare-telemed-zoom'), $runtime->ok() ? $runtime->message : sprintf(
                /* translators: %s: why the runtime cannot run */
                __('Cannot run: %s', 'kivicare-telemed-zoom'),
                $runtime->message
            )],
            'mode' => [__('Zoom app', 'kivicare-telemed-zoom'), $modes[$s['auth_type']] ?? __('Not set up', 'kivicare-telemed-zoom')],
            'webhook' => [__('Zoom webhooks', 'kivicare-telemed-zoom'), $webhook['status'] === 'good' ? $webhook['found'] : __('Not set up', 'kivicare-telemed-zoom')],
            'queue' => [__('Retries run by', 'kivicare-telemed-zoom'), KCTQueue::actionScheduler() ? 'Action Scheduler' : 'WP-Cron'],
            'live' => [__('Upcoming meetings', 'kivicare-telemed-zoom'), count(KCTMappingRepository::liveUpcoming($now))],
            'owed' => [__('Meetings with work owed to Zoom', 'kivicare-telemed-zoom'), KCTMappingRepository::countOwed()],
            'failed' => [__('Upcoming appointments whose meeting failed', 'kivicare-telemed-zoom'), KCTMappingRepository::countFailedUpcoming($now)],
            'broken' => [__('Doctors who must connect Zoom again', 'kivicare-telemed-zoom'), count(KCTDiagnostics::brokenDoctors())],
            'departed' => [__('Deleted doctors whose Zoom connection is kept for their meetings', 'kivicare-telemed-zoom'), count((array) get_option(KCTDepartedDoctors::OPTION, []))],
            'reconcile' => [__('Nightly reconcile', 'kivicare-telemed-zoom'), KCTStatusWords::reconcile(get_option(KCTReconcile::LAST))],
        ];
        $out = [];
        foreach ($fields as $key => [$label, $value]) {
            $out[$key] = ['label' => $label, 'value' => $value];
        }
        $info['kivicare-telemed-zoom'] = ['label' => __('KiviCare Telemed – Zoom', 'kivicare-telemed-zoom'), 'fields' => $out];
        return $info;
    }
}
