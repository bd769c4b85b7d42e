<?php

namespace KCTApp\admin;

use KCTApp\meetings\KCTMeetingLoop;
use KCTApp\meetings\KCTReconcile;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\connection\KCTConnect;
use KCTApp\zoom\KCTHostUsage;
use KCTApp\controllers\api\KCTWebhookController;

/**
 * Settings → Zoom telemedicine status, for administrators: each doctor's connection and use of
 * Zoom's daily cap, upcoming telemedicine appointments with their meeting's state, failed
 * meetings with "Retry now", the last reconcile and the latest webhook deliveries. The same
 * data answers `GET kct-zoom/v1/settings/zoom-telemed/status`. Never a link or a secret.
 */
final class KCTStatusScreen
{
    public const SLUG = 'kct-zoom-status';
    public const RETRY_ACTION = 'kct_zoom_retry';
    public const HOST_ACTION = 'kct_zoom_doctor_host';
    public const RESEND_ACTION = 'kct_zoom_resend';
    /** The outcome of a form's action, for the page it returns to (per administrator). */
    private const NOTICE = 'kct_zoom_status_notice_';

    public static function register(): void
    {
        add_action('admin_menu', static function () {
            add_options_page(
                __('Zoom telemedicine status', 'kivicare-telemed-zoom'),
                __('Zoom telemedicine status', 'kivicare-telemed-zoom'),
                'manage_options',
                self::SLUG,
                [self::class, 'render']
            );
        });
        add_action('admin_post_' . self::RETRY_ACTION, [self::class, 'retryFromForm']);
        add_action('admin_post_' . self::HOST_ACTION, [self::class, 'hostFromForm']);
        add_action('admin_post_' . self::RESEND_ACTION, [self::class, 'resendFromForm']);
    }

    /** @param array{outcome?: string} $filter which visits to list (`no_show` for no-shows) */
    public static function data(int $now, array $filter = []): array
    {
        $usage = KCTHostUsage::today($now);
        $clinicS2s = \KCTApp\settings\KCTSettings::raw()['auth_type'] === 'server-to-server';
        $doctors = [];
        $names = [];
        foreach (get_users(['role' => 'kiviCare_doctor', 'fields' => ['ID', 'display_name'], 'number' => 500]) as $u) {
            $view = KCTConnect::doctorView((int) $u->ID);
            $names[(int) $u->ID] = $u->display_name;
            $doctors[] = [
                'doctor_id' => (int) $u->ID,
                'name' => $u->display_name,
                'connection' => $view['connection_status'],
                'zoom_user' => $view['zoom_user'],
                // Under the clinic's app an administrator names it (a doctor's own app, the doctor).
                'host_assignable' => $clinicS2s && $view['zoom_user_set_by'] === 'administrator',
                'calls_today' => $usage[(int) $u->ID]['calls'] ?? 0,
                'daily_cap' => $usage[(int) $u->ID]['daily_cap'] ?? null,
            ];
        }
        $upcoming = [];
        foreach (KCTMappingRepository::upcoming($now, 100) as $row) {
            $upcoming[] = [
                'appointment_id' => (int) $row['appointment_id'],
                'doctor' => $names[(int) $row['doctor_id']] ?? self::notADoctorNow((int) $row['doctor_id']),
                'start_time' => $row['start_time'],
                'status' => $row['status'],
                'meeting_id' => $row['zoom_id'],
                'owed' => $row['intent'],
                'attempt' => (int) $row['attempt'],
                'next_attempt_at' => $row['next_attempt_at'],
                'last_error' => $row['last_error'],
                'retry' => KCTMappingRepository::hasFailed($row),
                'resend' => KCTMappingRepository::isLive($row),
            ];
        }
        return [
            'doctors' => $doctors,
            'upcoming' => $upcoming,
            'visits' => \KCTApp\visits\KCTVisits::recent($filter, 50),
            'reconcile' => get_option(KCTReconcile::LAST, null),
            'webhooks' => KCTWebhookController::recent(20),
        ];
    }

    /** A row's doctor who is not among the doctors now: deleted (their connection kept for their meetings), or no longer a doctor. */
    private static function notADoctorNow(int $id): string
    {
        $user = $id > 0 ? get_userdata($id) : false;
        return $user === false
            /* translators: %d: a WordPress user id */
            ? sprintf(__('#%d (user deleted)', 'kivicare-telemed-zoom'), $id)
            : $user->display_name;
    }

    /**
     * "Retry now": a fresh ensure request to the core, which decides what it means for the
     * row as it is (a failed meeting is made again; a cancelled appointment gets none).
     *
     * @return array|\WP_Error the loop's result
     */
    public static function retry(int $appointmentId)
    {
        if (KCTMappingRepository::find($appointmentId) === null) {
            return new \WP_Error('kct_not_found', __('No Zoom meeting record for that appointment.', 'kivicare-telemed-zoom'), ['status' => 404]);
        }
        return KCTMeetingLoop::run($appointmentId, 'ensure');
    }

    public static function retryFromForm(): void
    {
        $id = self::posted(self::RETRY_ACTION, 'appointment_id', __('Only administrators can retry meetings.', 'kivicare-telemed-zoom'));
        $r = self::retry($id);
        $done = is_wp_error($r) ? 'error' : (string) ($r['row']['status'] ?? '');
        wp_safe_redirect(add_query_arg(['page' => self::SLUG, 'kct_retried' => $id, 'kct_result' => $done], admin_url('options-general.php')));
        exit;
    }

    public static function hostFromForm(): void
    {
        $id = self::posted(self::HOST_ACTION, 'doctor_id', __('Only administrators can assign a doctor\'s Zoom user.', 'kivicare-telemed-zoom'));
        wp_safe_redirect(self::assignHost($id, sanitize_text_field(wp_unslash((string) ($_POST['zoom_user'] ?? '')))));
        exit;
    }

    /**
     * Assigns the Zoom user hosting a doctor's meetings under the clinic's app (checked with
     * Zoom, as the REST route does) and keeps the outcome for the page the form returns to:
     * in the database, since another web server may serve that page.
     *
     * @return string where the browser goes next
     */
    public static function assignHost(int $doctorId, string $zoomUser): string
    {
        $r = KCTConnect::assignClinicHost($doctorId, $zoomUser);
        self::notice(!is_wp_error($r), is_wp_error($r) ? $r->get_error_message() : __('The doctor\'s Zoom user is saved.', 'kivicare-telemed-zoom'));
        return admin_url('options-general.php?page=' . self::SLUG) . '#kct-doctors';
    }

    /**
     * The outcome of a form's action, kept for the page it returns to: in the database,
     * since another web server may serve that page.
     */
    private static function notice(bool $ok, string $message): void
    {
        set_transient(self::NOTICE . get_current_user_id(), ['ok' => $ok, 'message' => $message], 5 * MINUTE_IN_SECONDS);
    }

    public static function resendFromForm(): void
    {
        $id = self::posted(self::RESEND_ACTION, 'appointment_id', __('Only administrators can send a meeting\'s links again.', 'kivicare-telemed-zoom'));
        wp_safe_redirect(self::resend($id));
        exit;
    }

    /**
     * "Send the links again" (a patient who lost the mail): the links of a live meeting,
     * mailed as when it was made; the outcome is said on the page it returns to.
     *
     * @return string where the browser goes next
     */
    public static function resend(int $appointmentId): string
    {
        $row = KCTMappingRepository::find($appointmentId);
        if (!KCTMappingRepository::isLive($row)) {
            /* translators: %d: appointment id */
            self::notice(false, sprintf(__('Appointment %d has no live Zoom meeting: there are no links to send.', 'kivicare-telemed-zoom'), $appointmentId));
        } else {
            $sent = \KCTApp\meetings\KCTLinkMail::send($appointmentId, $row);
            self::notice($sent !== [], $sent !== []
                /* translators: 1: appointment id, 2: who was mailed (patient, doctor) */
                ? sprintf(__('Appointment %1$d: the links were sent again (%2$s).', 'kivicare-telemed-zoom'), $appointmentId, implode(', ', array_map([KCTStatusWords::class, 'recipient'], $sent)))
                /* translators: %d: appointment id */
                : sprintf(__('Appointment %d: no mail could be sent (check that this site can send mail).', 'kivicare-telemed-zoom'), $appointmentId));
        }
        return admin_url('options-general.php?page=' . self::SLUG) . '#kct-upcoming';
    }

    /** The Zoom user cell: a form where an administrator names it, else the user as text. */
    private static function hostCell(array $r)
    {
        if (!$r['host_assignable']) {
            return $r['zoom_user'];
        }
        return static function () use ($r) {
            $id = (int) $r['doctor_id'];
            self::form(self::HOST_ACTION, 'doctor_id', $id, sprintf(
                '<label class="screen-reader-text" for="kct-host-%1$d">%2$s</label><input type="text" id="kct-host-%1$d" name="zoom_user" class="regular-text" value="%3$s"> ',
                $id,
                esc_html(sprintf(/* translators: %s: the doctor's name */ __('Zoom user hosting the meetings of %s', 'kivicare-telemed-zoom'), $r['name'])),
                esc_attr((string) $r['zoom_user'])
            ), __('Save', 'kivicare-telemed-zoom'));
        };
    }

    /**
     * A nonce'd POST to one of this screen's admin-post actions about one appointment or
     * doctor (`$key` => `$id`), with `$fields` (escaped markup) before its button.
     */
    private static function form(string $action, string $key, int $id, string $fields, string $button): void
    {
        echo '<form method="post" action="' . esc_url(admin_url('admin-post.php')) . '">';
        wp_nonce_field($action . '_' . $id);
        echo '<input type="hidden" name="action" value="' . esc_attr($action) . '"><input type="hidden" name="' . esc_attr($key) . '" value="' . $id . '">';
        echo $fields . '<button class="button">' . esc_html($button) . '</button></form>';
    }

    /** The id a form posted, once the user may act and the nonce is this form's; else the request ends. */
    private static function posted(string $action, string $key, string $refusal): int
    {
        $id = (int) ($_POST[$key] ?? 0);
        if (!current_user_can('manage_options') || !check_admin_referer($action . '_' . $id)) {
            wp_die(esc_html($refusal), '', ['response' => 403]);
        }
        return $id;
    }

    public static function render(): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('Only administrators can see the Zoom status.', 'kivicare-telemed-zoom'), '', ['response' => 403]);
        }
        $noShows = ($_GET['kct_outcome'] ?? '') === 'no_show';
        $d = self::data(time(), $noShows ? ['outcome' => 'no_show'] : []);
        echo '<div class="wrap kct-zoom-status"><h1>' . esc_html__('Zoom telemedicine status', 'kivicare-telemed-zoom') . '</h1>';
        if (isset($_GET['kct_retried'])) {
            $result = sanitize_key((string) ($_GET['kct_result'] ?? ''));
            printf(
                '<div class="notice %s"><p>%s</p></div>',
                $result === 'error' ? 'notice-error' : 'notice-info',
                esc_html($result === 'error' ? sprintf(
                    /* translators: %d: appointment id */
                    __('Appointment %d: the retry did not succeed. The meeting\'s "Last error" below says why, if it has one.', 'kivicare-telemed-zoom'),
                    (int) $_GET['kct_retried']
                ) : sprintf(
                    /* translators: 1: appointment id, 2: the meeting's state after the retry */
                    __('Appointment %1$d retried: the meeting is %2$s.', 'kivicare-telemed-zoom'),
                    (int) $_GET['kct_retried'],
                    KCTStatusWords::meeting($result)
                ))
            );
        }

        echo '<h2 id="kct-doctors">' . esc_html__('Doctors', 'kivicare-telemed-zoom') . '</h2>';
        $notice = get_transient(self::NOTICE . get_current_user_id());
        if (is_array($notice)) {
            delete_transient(self::NOTICE . get_current_user_id());
            printf('<div class="notice %s"><p>%s</p></div>', $notice['ok'] ? 'notice-success' : 'notice-error', esc_html((string) $notice['message']));
        }
        if (\KCTApp\settings\KCTSettings::raw()['auth_type'] === 'server-to-server') {
            echo '<p>' . esc_html__('Under the clinic\'s Server-to-Server app, each doctor\'s meetings are hosted by the Zoom user named here (by default the doctor\'s own email); Zoom must know that user in the clinic\'s account. Leave it empty to go back to the doctor\'s email.', 'kivicare-telemed-zoom') . '</p>';
        }
        KCTTable::render(
            [__('Doctor', 'kivicare-telemed-zoom'), __('Connection', 'kivicare-telemed-zoom'), __('Zoom user', 'kivicare-telemed-zoom'), __('Creates and updates today (UTC)', 'kivicare-telemed-zoom')],
            array_map(static function ($r) {
                $cap = $r['daily_cap'] !== null ? ' / ' . $r['daily_cap'] : '';
                return [$r['name'], KCTStatusWords::connection((string) $r['connection']), self::hostCell($r), $r['calls_today'] . $cap];
            }, $d['doctors']),
            __('None.', 'kivicare-telemed-zoom')
        );

        echo '<h2 id="kct-upcoming">' . esc_html__('Upcoming and current telemedicine appointments', 'kivicare-telemed-zoom') . '</h2>';
        echo '<table class="widefat striped"><thead><tr>';
        foreach ([__('Appointment', 'kivicare-telemed-zoom'), __('Doctor', 'kivicare-telemed-zoom'), __('Starts', 'kivicare-telemed-zoom'), __('Meeting', 'kivicare-telemed-zoom'), __('Owed work', 'kivicare-telemed-zoom'), __('Last error', 'kivicare-telemed-zoom'), ''] as $h) {
            echo '<th>' . esc_html($h) . '</th>';
        }
        echo '</tr></thead><tbody>';
        foreach ($d['upcoming'] as $r) {
            $owed = $r['owed'] ? sprintf(
                /* translators: 1: the work owed on the meeting, 2: attempts so far, 3: when the next one runs */
                __('%1$s (attempt %2$d, next %3$s)', 'kivicare-telemed-zoom'),
                KCTStatusWords::work((string) $r['owed']),
                $r['attempt'],
                KCTStatusWords::siteTime($r['next_attempt_at'])
            ) : '—';
            echo '<tr><td>' . (int) $r['appointment_id'] . '</td><td>' . esc_html($r['doctor']) . '</td><td>' . esc_html(KCTStatusWords::siteTime($r['start_time']))
                . '</td><td>' . esc_html(KCTStatusWords::meeting((string) $r['status']) . ($r['meeting_id'] ? ' · ' . $r['meeting_id'] : '')) . '</td><td>' . esc_html($owed)
                . '</td><td>' . esc_html((string) $r['last_error']) . '</td><td>';
            if ($r['retry']) {
                self::form(self::RETRY_ACTION, 'appointment_id', (int) $r['appointment_id'], '', __('Retry now', 'kivicare-telemed-zoom'));
            }
            if ($r['resend']) {
                self::form(self::RESEND_ACTION, 'appointment_id', (int) $r['appointment_id'], '', __('Send the links again', 'kivicare-telemed-zoom'));
            }
            echo '</td></tr>';
        }
        echo '</tbody></table>';

        echo '<h2>' . esc_html__('Visits', 'kivicare-telemed-zoom') . '</h2><p>';
        printf(
            '<a href="%s"%s>%s</a> | <a href="%s"%s>%s</a>',
            esc_url(admin_url('options-general.php?page=' . self::SLUG)),
            $noShows ? '' : ' aria-current="page"',
            esc_html__('All', 'kivicare-telemed-zoom'),
            esc_url(admin_url('options-general.php?page=' . self::SLUG . '&kct_outcome=no_show')),
            $noShows ? ' aria-current="page"' : '',
            esc_html__('No-shows', 'kivicare-telemed-zoom')
        );
        echo '</p>';
        \KCTApp\visits\KCTVisitTable::render($d['visits']);

        echo '<h2>' . esc_html__('Last reconcile with Zoom', 'kivicare-telemed-zoom') . '</h2><p>';
        echo esc_html(KCTStatusWords::reconcile($d['reconcile']));
        echo '</p><h2>' . esc_html__('Latest webhook deliveries', 'kivicare-telemed-zoom') . '</h2>';
        KCTTable::render(
            [__('Received', 'kivicare-telemed-zoom'), __('Event', 'kivicare-telemed-zoom'), __('Meeting', 'kivicare-telemed-zoom')],
            array_map(static function ($r) {
                return [KCTStatusWords::siteTime($r['received_at']), KCTStatusWords::event((string) $r['event']), $r['meeting_id']];
            }, $d['webhooks']),
            __('None.', 'kivicare-telemed-zoom')
        );
        echo '</div>';
    }
}
