<?php

namespace KCTApp\diagnostics;

use KCTApp\admin\KCTStatusWords;
use KCTApp\storage\KCTSite;
use KCTApp\auth\KCTTokenStore;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\wasm\KCTWasmLoader;

/**
 * One registry of checks: Site Health shows them (Tools → Site Health), the admin notice
 * and the status screen read them. Each check answers a status (good | recommended |
 * critical), a label, what it found, and the exact fix. No check calls Zoom: they read
 * this site's own state, so Site Health stays fast.
 */
final class KCTDiagnostics
{
    public const LAST_WEBHOOK = 'kct_zoom_webhook_last_verified';
    /** A queued retry this late means the queue is not running. */
    public const OVERDUE = 15 * MINUTE_IN_SECONDS;

    /** @return array<string, callable(): array> */
    public static function checks(): array
    {
        return [
            'kct_zoom_runtime' => [self::class, 'runtime'],
            'kct_zoom_credentials' => [self::class, 'credentials'],
            'kct_zoom_encryption_key' => [self::class, 'encryptionKey'],
            'kct_zoom_webhook' => [self::class, 'webhook'],
            'kct_zoom_queue' => [self::class, 'queue'],
            'kct_zoom_doctors' => [self::class, 'doctors'],
            'kct_zoom_reconcile' => [self::class, 'reconcile'],
        ];
    }

    private static function result(string $status, string $label, string $found, ?string $fix = null): array
    {
        return ['status' => $status, 'label' => $label, 'found' => $found, 'fix' => $fix];
    }

    /**
     * The runtime as the last request that needed it found it: the notice on every admin page
     * reads this, so no page loads the runtime just to show a notice.
     */
    public static function lastRuntimeFailure(): array
    {
        $f = get_option(\KCTApp\zoom\KCTCoreAccess::FAILURE_OPTION);
        if (!is_array($f)) {
            return self::result('good', __('The Zoom core ran the last time it was needed', 'kivicare-telemed-zoom'), '');
        }
        return self::result(
            'critical',
            __('The Zoom core cannot run: no meetings are created', 'kivicare-telemed-zoom'),
            (string) ($f['message'] ?? ''),
            isset($f['fix']) ? (string) $f['fix'] : null
        );
    }

    public static function runtime(): array
    {
        $s = KCTWasmLoader::status();
        if ($s->ok()) {
            return self::result('good', __('The Zoom core runs in PHP', 'kivicare-telemed-zoom'), $s->message);
        }
        $found = $s->message . ($s->tried ? ' ' . sprintf(__('Tried: %s', 'kivicare-telemed-zoom'), implode(', ', $s->tried)) : '');
        return self::result('critical', __('The Zoom core cannot run: no meetings are created', 'kivicare-telemed-zoom'), $found, $s->fix);
    }

    public static function credentials(): array
    {
        $s = KCTSettings::raw();
        if ($s['auth_type'] === 'none') {
            return self::result(
                'recommended',
                __('Zoom is not set up', 'kivicare-telemed-zoom'),
                __('No Zoom app is configured for the clinic.', 'kivicare-telemed-zoom'),
                __('Settings → Zoom telemedicine: choose OAuth or Server-to-Server and enter the app\'s credentials.', 'kivicare-telemed-zoom')
            );
        }
        if ($s['client_secret'] !== '' && KCTSettings::secret('client_secret') === null) {
            return self::result(
                'critical',
                __('The Zoom client secret cannot be decrypted', 'kivicare-telemed-zoom'),
                __('The encryption key changed (KCT_ZOOM_ENCRYPTION_KEY or the WordPress salts), so the stored secret is unreadable.', 'kivicare-telemed-zoom'),
                __('Restore the previous key, or enter the client secret again in Settings → Zoom telemedicine.', 'kivicare-telemed-zoom')
            );
        }
        $missing = $s['client_id'] === '' || $s['client_secret'] === '' || ($s['auth_type'] === 'server-to-server' && $s['account_id'] === '');
        if ($missing) {
            return self::result(
                'critical',
                __('The Zoom app\'s credentials are incomplete', 'kivicare-telemed-zoom'),
                sprintf(__('Mode %s lacks a client id, a client secret or an account id.', 'kivicare-telemed-zoom'), $s['auth_type']),
                __('Complete them in Settings → Zoom telemedicine.', 'kivicare-telemed-zoom')
            );
        }
        $check = \KCTApp\settings\KCTAppCheck::last();
        if ($check !== null && !empty($check['missing'])) {
            return self::result(
                'critical',
                __('The Zoom app lacks scopes', 'kivicare-telemed-zoom'),
                \KCTApp\settings\KCTAppCheck::words($check),
                ($check['mode'] ?? '') === 'oauth'
                    ? __('Add the scopes to the app in the Zoom App Marketplace; each doctor then connects Zoom again on their Zoom page.', 'kivicare-telemed-zoom')
                    : __('Add the scopes to the app in the Zoom App Marketplace, then save Settings → Zoom telemedicine again.', 'kivicare-telemed-zoom')
            );
        }
        return self::result(
            'good',
            __('The Zoom app is configured', 'kivicare-telemed-zoom'),
            sprintf(__('Mode: %s.', 'kivicare-telemed-zoom'), $s['auth_type'])
        );
    }

    public static function encryptionKey(): array
    {
        if (!\KCTApp\security\KCTVault::keyChanged()) {
            return self::result('good', __('Zoom secrets are readable', 'kivicare-telemed-zoom'), __('The encryption key is the one the secrets were stored with.', 'kivicare-telemed-zoom'));
        }
        return self::result(
            'critical',
            __('The encryption key of the Zoom secrets changed', 'kivicare-telemed-zoom'),
            __('The WordPress salts or KCT_ZOOM_ENCRYPTION_KEY changed since the secrets were stored: they cannot be read, doctors must connect Zoom again, and no meeting is created.', 'kivicare-telemed-zoom'),
            __('Restore the previous key in wp-config.php, or enter the clinic\'s Zoom secrets again in Settings → Zoom telemedicine (doctors are asked to reconnect).', 'kivicare-telemed-zoom')
        );
    }

    public static function webhook(): array
    {
        if (KCTSettings::raw()['webhook_secret'] === '') {
            return self::result(
                'recommended',
                __('Zoom webhooks are not set up', 'kivicare-telemed-zoom'),
                __('Without them, meetings deleted or changed in Zoom and removed apps go unnoticed.', 'kivicare-telemed-zoom'),
                sprintf(
                    __('In the Zoom app, subscribe to meeting events with %s and enter its secret token in Settings → Zoom telemedicine.', 'kivicare-telemed-zoom'),
                    rest_url('kivicare/v1/settings/zoom-telemed/webhook')
                )
            );
        }
        $last = (int) get_option(self::LAST_WEBHOOK, 0);
        return self::result('good', __('Zoom webhooks are set up', 'kivicare-telemed-zoom'), $last
            ? sprintf(__('Last verified delivery: %s.', 'kivicare-telemed-zoom'), KCTStatusWords::siteTime($last))
            : __('No verified delivery yet.', 'kivicare-telemed-zoom'));
    }

    public static function queue(): array
    {
        $overdue = KCTMappingRepository::countOverdue(time() - self::OVERDUE);
        $failed = KCTMappingRepository::countFailedUpcoming(time());
        if ($overdue > 0) {
            return self::result(
                'critical',
                __('Zoom retries are overdue', 'kivicare-telemed-zoom'),
                sprintf(_n('%d meeting waits past its retry time.', '%d meetings wait past their retry time.', $overdue, 'kivicare-telemed-zoom'), $overdue),
                __('WordPress\'s scheduled tasks are not running: disable DISABLE_WP_CRON or run wp-cron.php from the system cron every five minutes.', 'kivicare-telemed-zoom')
            );
        }
        if ($failed > 0) {
            return self::result(
                'recommended',
                __('Some Zoom meetings could not be created', 'kivicare-telemed-zoom'),
                sprintf(_n('%d upcoming appointment has no meeting.', '%d upcoming appointments have no meeting.', $failed, 'kivicare-telemed-zoom'), $failed),
                __('Settings → Zoom telemedicine status lists each one with its reason: fix the cause, then press its Retry now.', 'kivicare-telemed-zoom')
            );
        }
        return self::result('good', __('Zoom meetings are up to date', 'kivicare-telemed-zoom'), __('No overdue retries and no failed upcoming meetings.', 'kivicare-telemed-zoom'));
    }

    /** @return \WP_User[]|object[] the doctors whose recorded connection is broken (ID, display_name) */
    public static function brokenDoctors(): array
    {
        return get_users(['meta_key' => KCTSite::userKey(KCTTokenStore::STATE), 'meta_value' => KCTTokenStore::BROKEN, 'meta_compare' => 'IN', 'fields' => ['ID', 'display_name']]);
    }

    public static function doctors(): array
    {
        $broken = self::brokenDoctors();
        if (!$broken) {
            return self::result('good', __('Doctors\' Zoom connections work', 'kivicare-telemed-zoom'), __('No doctor has to connect Zoom again.', 'kivicare-telemed-zoom'));
        }
        $names = implode(', ', array_map(static function ($u) {
            return $u->display_name;
        }, $broken));
        return self::result(
            'recommended',
            __('Some doctors must connect Zoom again', 'kivicare-telemed-zoom'),
            sprintf(__('Broken connections: %s.', 'kivicare-telemed-zoom'), $names),
            __('Each of them opens their Zoom page and connects again.', 'kivicare-telemed-zoom')
        );
    }

    public static function reconcile(): array
    {
        $last = get_option(\KCTApp\meetings\KCTReconcile::LAST);
        $next = wp_next_scheduled('kct_zoom_daily');
        if (!is_array($last) && $next !== false && $next > time() - HOUR_IN_SECONDS) {
            // A new install: the first run is scheduled and not yet late.
            return self::result(
                'good',
                __('The nightly Zoom reconcile is scheduled', 'kivicare-telemed-zoom'),
                sprintf(__('Its first run is due at %s.', 'kivicare-telemed-zoom'), KCTStatusWords::siteTime((int) $next))
            );
        }
        if (!is_array($last) || (int) $last['at'] < time() - 2 * DAY_IN_SECONDS) {
            return self::result(
                'recommended',
                __('The nightly Zoom reconcile has not run lately', 'kivicare-telemed-zoom'),
                __('It checks every upcoming meeting against Zoom and removes meetings left without an appointment.', 'kivicare-telemed-zoom'),
                __('WordPress\'s scheduled tasks must run (the kct_zoom_daily event).', 'kivicare-telemed-zoom')
            );
        }
        return self::result(
            (int) $last['failed'] > 0 ? 'recommended' : 'good',
            __('The nightly Zoom reconcile ran', 'kivicare-telemed-zoom'),
            KCTStatusWords::reconcile($last)
        );
    }

    // ---- Site Health ---------------------------------------------------------------------

    public static function register(): void
    {
        add_filter('site_status_tests', [self::class, 'siteStatusTests']);
        KCTSiteInfo::register();
        add_action('admin_notices', [self::class, 'adminNotice']);
    }

    public static function siteStatusTests($tests)
    {
        $tests = is_array($tests) ? $tests : [];
        foreach (self::checks() as $id => $check) {
            $tests['direct'][$id] = [
                'label' => __('Zoom telemedicine', 'kivicare-telemed-zoom'),
                'test' => static function () use ($id, $check) {
                    return self::siteHealth($id, $check());
                },
            ];
        }
        return $tests;
    }

    /** A check in Site Health's result shape. */
    public static function siteHealth(string $id, array $r): array
    {
        $description = '<p>' . esc_html($r['found']) . '</p>';
        if ($r['fix'] !== null) {
            $description .= '<p><strong>' . esc_html__('Fix:', 'kivicare-telemed-zoom') . '</strong> ' . esc_html($r['fix']) . '</p>';
        }
        return [
            'label' => $r['label'],
            'status' => $r['status'],
            'badge' => ['label' => __('Zoom telemedicine', 'kivicare-telemed-zoom'), 'color' => $r['status'] === 'good' ? 'blue' : 'red'],
            'description' => $description,
            'actions' => '',
            'test' => $id,
        ];
    }

    /** Administrators see the critical problems on every admin page, with the fix. */
    public static function adminNotice(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        foreach ([self::lastRuntimeFailure(), self::encryptionKey(), self::credentials()] as $r) {
            if ($r['status'] !== 'critical') {
                continue;
            }
            echo '<div class="notice notice-error"><p><strong>' . esc_html($r['label']) . '.</strong> ' . esc_html($r['found'])
                . ($r['fix'] !== null ? ' ' . esc_html($r['fix']) : '') . '</p></div>';
        }
    }
}
