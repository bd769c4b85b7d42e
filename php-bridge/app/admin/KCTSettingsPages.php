<?php

namespace KCTApp\admin;

use KCTApp\settings\KCTSettings;
use KCTApp\connection\KCTConnect;
use KCTApp\meetings\KCTMappingRepository;

/**
 * Two screens beside KiviCare's own: Settings → Zoom telemedicine (administrators) and the
 * doctor's "Zoom" page. Both load the core's browser build (pkg/) to validate as the user
 * types; the server validates again on save with the same code and the same messages.
 */
final class KCTSettingsPages
{
    public const ADMIN_SLUG = 'kct-zoom-settings';
    public const DOCTOR_SLUG = 'kct-zoom-doctor';

    public static function register(): void
    {
        add_action('admin_menu', [self::class, 'menus']);
        add_filter('script_loader_tag', [self::class, 'moduleTag'], 10, 2);
    }

    public static function menus(): void
    {
        add_options_page(__('Zoom telemedicine', 'kivicare-telemed-zoom'), __('Zoom telemedicine', 'kivicare-telemed-zoom'), 'manage_options', self::ADMIN_SLUG, [self::class, 'renderAdmin']);
        if (KCTConnect::isDoctor(get_current_user_id())) {
            add_menu_page(__('Zoom', 'kivicare-telemed-zoom'), __('Zoom', 'kivicare-telemed-zoom'), 'read', self::DOCTOR_SLUG, [self::class, 'renderDoctor'], 'dashicons-video-alt2');
        }
    }

    /** The page script is an ES module (it imports the core). */
    public static function moduleTag($tag, $handle)
    {
        return $handle === 'kct-zoom-settings' ? str_replace('<script ', '<script type="module" ', $tag) : $tag;
    }

    private static function enqueue(string $view, array $data): void
    {
        $base = plugins_url('', KCT_ZOOM_FILE);
        wp_enqueue_style('kct-zoom-settings', $base . '/assets/css/kct-settings.css', [], KCT_ZOOM_VERSION);
        wp_enqueue_script('kct-zoom-settings', $base . '/assets/js/kct-settings.js', ['wp-i18n'], KCT_ZOOM_VERSION, true);
        wp_set_script_translations('kct-zoom-settings', 'kivicare-telemed-zoom', dirname(KCT_ZOOM_FILE) . '/languages');
        wp_add_inline_script('kct-zoom-settings', 'window.kctZoom = ' . wp_json_encode([
            'view' => $view,
            // Outside KiviCare's end-to-end encryption of kivicare/v* (CONTRACT §9).
            'rest' => esc_url_raw(rest_url(\KCTApp\controllers\api\KCTZoomController::OWN_NAMESPACE . '/settings/zoom-telemed')),
            'nonce' => wp_create_nonce('wp_rest'),
            'pkg' => $base . '/assets/pkg/',
            'data' => $data,
        ]) . ';', 'before');
    }

    /** One row: label, input, help, and the place its error is shown. */
    private static function row(string $name, string $label, string $input, string $help = ''): void
    {
        printf(
            '<tr id="kct-row-%1$s"><th scope="row"><label for="kct-%1$s">%2$s</label></th><td>%3$s%4$s<p class="kct-error" data-for="%1$s" role="alert"></p></td></tr>',
            esc_attr($name),
            esc_html($label),
            $input,
            $help !== '' ? '<p class="description">' . esc_html($help) . '</p>' : ''
        );
    }

    private static function field(string $name, string $label, string $type = 'text', string $help = '', string $attributes = ''): void
    {
        $class = $type === 'number' ? 'small-text' : 'regular-text';
        self::row($name, $label, sprintf('<input type="%1$s" id="kct-%2$s" name="%2$s" class="%3$s" autocomplete="off"%4$s>', esc_attr($type), esc_attr($name), $class, $attributes), $help);
    }

    private static function checkbox(string $name, string $label, string $help): void
    {
        printf(
            '<tr id="kct-row-%1$s"><th scope="row">%2$s</th><td><label><input type="checkbox" id="kct-%1$s" name="%1$s"> %3$s</label><p class="kct-error" data-for="%1$s" role="alert"></p></td></tr>',
            esc_attr($name),
            esc_html($label),
            esc_html($help)
        );
    }

    /** @param array<string, string> $options value => label */
    private static function select(string $name, string $label, array $options, string $help = ''): void
    {
        $html = sprintf('<select id="kct-%1$s" name="%1$s">', esc_attr($name));
        foreach ($options as $value => $text) {
            $html .= sprintf('<option value="%s">%s</option>', esc_attr((string) $value), esc_html($text));
        }
        self::row($name, $label, $html . '</select>', $help);
    }

    /**
     * The clinic's meeting policy: every setting the core's policy has a form for (a fixed
     * passcode, an agenda and alternative hosts stay with the REST route and the
     * `kct_zoom_meeting_policy` filter). The page shows the policy in effect and saves only
     * what differs from the core's defaults.
     */
    private static function meetingFields(): void
    {
        self::checkbox('waiting_room', __('Waiting room', 'kivicare-telemed-zoom'), __('Patients wait until the doctor lets them in.', 'kivicare-telemed-zoom'));
        self::checkbox('join_before_host', __('Join before the doctor', 'kivicare-telemed-zoom'), __('Patients may join before the doctor starts the meeting (not with the waiting room on).', 'kivicare-telemed-zoom'));
        self::select('jbh_time', __('How early', 'kivicare-telemed-zoom'), [
            '0' => __('Any time before the start', 'kivicare-telemed-zoom'),
            '5' => __('Up to 5 minutes before the start', 'kivicare-telemed-zoom'),
            '10' => __('Up to 10 minutes before the start', 'kivicare-telemed-zoom'),
        ], __('Only with join before the doctor on.', 'kivicare-telemed-zoom'));
        self::checkbox('mute_upon_entry', __('Mute on entry', 'kivicare-telemed-zoom'), __('Participants join muted.', 'kivicare-telemed-zoom'));
        self::checkbox('host_video', __('Doctor\'s video', 'kivicare-telemed-zoom'), __('The doctor\'s video is on when they join.', 'kivicare-telemed-zoom'));
        self::checkbox('participant_video', __('Patient\'s video', 'kivicare-telemed-zoom'), __('The patient\'s video is on when they join.', 'kivicare-telemed-zoom'));
        self::select('auto_recording', __('Recording', 'kivicare-telemed-zoom'), [
            'none' => __('Off', 'kivicare-telemed-zoom'),
            'local' => __('On the doctor\'s computer', 'kivicare-telemed-zoom'),
            'cloud' => __('In the Zoom cloud', 'kivicare-telemed-zoom'),
        ], __('Recording a consultation usually needs the patient\'s consent.', 'kivicare-telemed-zoom'));
        self::select('encryption_type', __('Encryption', 'kivicare-telemed-zoom'), [
            'enhanced_encryption' => __('Enhanced', 'kivicare-telemed-zoom'),
            'e2ee' => __('End-to-end (no cloud recording, no telephone dial-in)', 'kivicare-telemed-zoom'),
        ]);
        self::select('audio', __('Audio', 'kivicare-telemed-zoom'), [
            'voip' => __('Computer audio', 'kivicare-telemed-zoom'),
            'telephony' => __('Telephone', 'kivicare-telemed-zoom'),
            'both' => __('Computer audio and telephone', 'kivicare-telemed-zoom'),
        ]);
        self::checkbox('meeting_authentication', __('Signed-in users only', 'kivicare-telemed-zoom'), __('Only people signed in to Zoom can join (patients then need a Zoom account).', 'kivicare-telemed-zoom'));
        self::field('passcode_length', __('Passcode length', 'kivicare-telemed-zoom'), 'number', __('6 to 10 characters; every meeting gets a passcode of its own.', 'kivicare-telemed-zoom'), ' min="6" max="10" step="1"');
        self::select('passcode_alphabet', __('Passcode characters', 'kivicare-telemed-zoom'), [
            'alphanumeric' => __('Letters and digits', 'kivicare-telemed-zoom'),
            'numeric' => __('Digits only (easier to type on a phone)', 'kivicare-telemed-zoom'),
        ]);
        self::field('max_duration', __('Longest meeting (minutes)', 'kivicare-telemed-zoom'), 'number', __('An appointment longer than this gets no meeting (at most 1440).', 'kivicare-telemed-zoom'), ' min="1" max="1440" step="1"');
        self::field('topic_template', __('Meeting topic', 'kivicare-telemed-zoom'), 'text', __('Zoom shows it to both and in calendars. {appointment_id}, {doctor_name} and {patient_name} are filled in; the reference {ref} is added when left out. The default names no patient.', 'kivicare-telemed-zoom'), ' maxlength="200"');
        self::checkbox('register_patient', __('Register patients', 'kivicare-telemed-zoom'), __('Give each patient their own join link, so Zoom names them for certain when they join or wait.', 'kivicare-telemed-zoom'));
    }

    public static function renderAdmin(): void
    {
        if (!current_user_can('manage_options')) {
            wp_die(esc_html__('Only administrators can change the clinic\'s Zoom settings.', 'kivicare-telemed-zoom'), '', ['response' => 403]);
        }
        self::enqueue('admin', KCTSettings::publicView());
        echo '<div class="wrap kct-zoom"><h1>' . esc_html__('Zoom telemedicine', 'kivicare-telemed-zoom') . '</h1>';
        echo '<p class="kct-core" id="kct-core-version"></p>';
        echo '<form id="kct-form" novalidate><table class="form-table" role="presentation">';
        echo '<tr><th scope="row"><label for="kct-auth_type">' . esc_html__('Zoom app type', 'kivicare-telemed-zoom') . '</label></th><td><select id="kct-auth_type" name="auth_type">'
            . '<option value="none">' . esc_html__('Not connected', 'kivicare-telemed-zoom') . '</option>'
            . '<option value="oauth">' . esc_html__('OAuth: each doctor connects their own Zoom account', 'kivicare-telemed-zoom') . '</option>'
            . '<option value="server-to-server">' . esc_html__('Server-to-Server: one Zoom account for the clinic', 'kivicare-telemed-zoom') . '</option>'
            . '</select><p class="kct-error" data-for="auth_type" role="alert"></p></td></tr>';
        // Filled by the page from the core's list of what the app needs in the chosen mode.
        echo '<tr id="kct-row-app_setup"><th scope="row">' . esc_html__('Setting up the Zoom app', 'kivicare-telemed-zoom') . '</th><td><ol id="kct-app-setup" class="kct-app-setup"></ol></td></tr>';
        self::field('client_id', __('Client ID', 'kivicare-telemed-zoom'));
        self::field('client_secret', __('Client secret', 'kivicare-telemed-zoom'), 'password');
        self::field('account_id', __('Account ID (Server-to-Server)', 'kivicare-telemed-zoom'));
        self::field('redirect_url', __('Redirect URL (OAuth)', 'kivicare-telemed-zoom'), 'url', sprintf(__('Register exactly this URL in the Zoom app: %s', 'kivicare-telemed-zoom'), KCTSettings::callbackUrl()));
        self::field('webhook_secret', __('Webhook secret token', 'kivicare-telemed-zoom'), 'password', sprintf(__('Event notification endpoint: %s', 'kivicare-telemed-zoom'), KCTSettings::webhookUrl()));
        self::checkbox('check_in_from_zoom', __('Check-in from Zoom', 'kivicare-telemed-zoom'), __('Check patients in when they join the meeting, and out when it ends after both were there (subscribe to the participant events in the Zoom app).', 'kivicare-telemed-zoom'));
        self::checkbox('delete_data_on_uninstall', __('Uninstall', 'kivicare-telemed-zoom'), __('Delete the meeting records, Zoom connections and these settings when the plugin is deleted (the meetings at Zoom stay).', 'kivicare-telemed-zoom'));
        echo '</table><h2>' . esc_html__('Meetings', 'kivicare-telemed-zoom') . '</h2><table class="form-table" role="presentation">';
        self::meetingFields();
        echo '</table><p class="submit"><button type="submit" class="button button-primary" id="kct-save">' . esc_html__('Save', 'kivicare-telemed-zoom') . '</button></p>';
        echo '<p id="kct-status" role="status"></p></form>';
        echo '<h2>' . esc_html__('What a meeting will look like', 'kivicare-telemed-zoom') . '</h2><pre id="kct-preview" class="kct-preview"></pre></div>';
    }

    /**
     * The doctor's consultations until they end, each live one with a Start link (the start
     * page, whose own button fetches a fresh start link): KiviCare's lists show theirs only
     * once the patient is checked in.
     */
    private static function doctorUpcoming(int $doctorId): void
    {
        $rows = array_map(static function (array $r) {
            $patient = get_userdata((int) $r['patient_id']);
            $id = (int) $r['appointment_id'];
            $when = KCTStatusWords::appointmentTime($r['start_time'], $r['timezone']);
            return ['#' . $id, $patient ? $patient->display_name : '—', $when ?: '—',
                KCTStatusWords::meeting((string) $r['status']),
                !KCTMappingRepository::isLive($r) ? '—' : static function () use ($id, $patient, $when) {
                    printf(
                        '<a class="button" href="%s" aria-label="%s">%s</a>',
                        esc_url(\KCTApp\telemed\KCTAppointmentLinks::hostLink($id)),
                        /* translators: 1: the patient's name, 2: the appointment's date and time */
                        esc_attr(sprintf(__('Start the video consultation with %1$s on %2$s', 'kivicare-telemed-zoom'), $patient ? $patient->display_name : '#' . $id, $when)),
                        esc_html__('Start', 'kivicare-telemed-zoom')
                    );
                }];
        }, KCTMappingRepository::upcoming(time(), 20, $doctorId));
        KCTTable::render(
            [__('Appointment', 'kivicare-telemed-zoom'), __('Patient', 'kivicare-telemed-zoom'), __('When', 'kivicare-telemed-zoom'),
                __('Meeting', 'kivicare-telemed-zoom'), ''],
            $rows,
            __('No video consultations to come.', 'kivicare-telemed-zoom'),
            'kct-doctor-upcoming'
        );
    }

    public static function renderDoctor(): void
    {
        if (!KCTConnect::isDoctor(get_current_user_id())) {
            wp_die(esc_html__('Only doctors have a Zoom connection.', 'kivicare-telemed-zoom'), '', ['response' => 403]);
        }
        $view = KCTConnect::doctorView(get_current_user_id());
        $view['clinic_auth_type'] = KCTSettings::raw()['auth_type'];
        self::enqueue('doctor', $view);
        echo '<div class="wrap kct-zoom"><h1>' . esc_html__('Your Zoom connection', 'kivicare-telemed-zoom') . '</h1>';
        // Where Zoom's consent sends the browser back (the OAuth callback): say how it went.
        $result = sanitize_key((string) wp_unslash($_GET['kct_zoom'] ?? ''));
        if ($result === 'connected') {
            echo '<div class="notice notice-success"><p>' . esc_html__('Zoom is connected.', 'kivicare-telemed-zoom') . '</p></div>';
            $check = \KCTApp\settings\KCTAppCheck::last();
            if ($check !== null && !empty($check['missing'])) {
                // What Zoom granted lacks scopes: some calls will be refused until the app has them.
                echo '<div class="notice notice-warning"><p>' . esc_html(sprintf(
                    /* translators: %s: Zoom scopes, space-separated */
                    __('The clinic\'s Zoom app lacks these scopes, so some of your meetings\' calls will be refused: %s. Ask an administrator to add them to the app in the Zoom App Marketplace, then connect Zoom again here.', 'kivicare-telemed-zoom'),
                    implode(' ', $check['missing'])
                )) . '</p></div>';
            }
        } elseif ($result === 'error') {
            $code = sanitize_key((string) wp_unslash($_GET['kct_zoom_error'] ?? ''));
            echo '<div class="notice notice-error"><p>' . esc_html(KCTStatusWords::connectFailure($code)) . '</p></div>';
        }
        echo '<p id="kct-connection" class="kct-connection"></p>';
        echo '<p><button type="button" class="button button-primary" id="kct-connect">' . esc_html__('Connect Zoom', 'kivicare-telemed-zoom') . '</button> ';
        echo '<button type="button" class="button" id="kct-test">' . esc_html__('Test connection', 'kivicare-telemed-zoom') . '</button> ';
        echo '<button type="button" class="button" id="kct-disconnect">' . esc_html__('Disconnect', 'kivicare-telemed-zoom') . '</button></p>';
        echo '<h2>' . esc_html__('Your own Server-to-Server app (optional)', 'kivicare-telemed-zoom') . '</h2>';
        echo '<form id="kct-form" novalidate><table class="form-table" role="presentation">';
        echo '<tr><th scope="row">' . esc_html__('Use my own app', 'kivicare-telemed-zoom') . '</th><td><label><input type="checkbox" id="kct-enable" name="enable_server_to_server"> ' . esc_html__('Host my meetings with my own Server-to-Server app', 'kivicare-telemed-zoom') . '</label></td></tr>';
        self::field('account_id', __('Account ID', 'kivicare-telemed-zoom'));
        self::field('client_id', __('Client ID', 'kivicare-telemed-zoom'));
        self::field('client_secret', __('Client secret', 'kivicare-telemed-zoom'), 'password');
        self::field('zoom_user', __('Zoom user (email or id) hosting my meetings', 'kivicare-telemed-zoom'), 'text');
        echo '</table><h2>' . esc_html__('Notifications', 'kivicare-telemed-zoom') . '</h2><table class="form-table" role="presentation">';
        self::checkbox('waiting_mail', __('Waiting patients', 'kivicare-telemed-zoom'), __('Mail me when my patient is waiting (the notice on these screens is always shown).', 'kivicare-telemed-zoom'));
        echo '</table><p class="submit"><button type="submit" class="button button-primary" id="kct-save">' . esc_html__('Save', 'kivicare-telemed-zoom') . '</button></p>';
        echo '<p id="kct-status" role="status"></p></form>';
        echo '<h2>' . esc_html__('Your upcoming video consultations', 'kivicare-telemed-zoom') . '</h2>';
        self::doctorUpcoming(get_current_user_id());
        echo '<h2>' . esc_html__('Your recent visits', 'kivicare-telemed-zoom') . '</h2>';
        \KCTApp\visits\KCTVisitTable::render(\KCTApp\visits\KCTVisits::recent(['doctor_id' => get_current_user_id()], 20));
        echo '</div>';
    }
}
