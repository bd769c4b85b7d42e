<?php

namespace KCTApp\admin;

use KCTApp\settings\KCTSettings;
use KCTApp\connection\KCTConnect;

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

    private static function field(string $name, string $label, string $type = 'text', string $help = ''): void
    {
        printf(
            '<tr><th scope="row"><label for="kct-%1$s">%2$s</label></th><td><input type="%3$s" id="kct-%1$s" name="%1$s" class="regular-text" autocomplete="off">%4$s<p class="kct-error" data-for="%1$s" role="alert"></p></td></tr>',
            esc_attr($name),
            esc_html($label),
            esc_attr($type),
            $help !== '' ? '<p class="description">' . esc_html($help) . '</p>' : ''
        );
    }

    private static function checkbox(string $name, string $label, string $help): void
    {
        printf(
            '<tr><th scope="row">%2$s</th><td><label><input type="checkbox" id="kct-%1$s" name="%1$s"> %3$s</label></td></tr>',
            esc_attr($name),
            esc_html($label),
            esc_html($help)
        );
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
        self::field('client_id', __('Client ID', 'kivicare-telemed-zoom'));
        self::field('client_secret', __('Client secret', 'kivicare-telemed-zoom'), 'password');
        self::field('account_id', __('Account ID (Server-to-Server)', 'kivicare-telemed-zoom'));
        self::field('redirect_url', __('Redirect URL (OAuth)', 'kivicare-telemed-zoom'), 'url', sprintf(__('Register exactly this URL in the Zoom app: %s', 'kivicare-telemed-zoom'), KCTSettings::callbackUrl()));
        self::field('webhook_secret', __('Webhook secret token', 'kivicare-telemed-zoom'), 'password', sprintf(__('Event notification endpoint: %s', 'kivicare-telemed-zoom'), KCTSettings::webhookUrl()));
        self::checkbox('check_in_from_zoom', __('Check-in from Zoom', 'kivicare-telemed-zoom'), __('Check patients in when they join the meeting, and out when it ends after both were there (subscribe to the participant events in the Zoom app).', 'kivicare-telemed-zoom'));
        self::checkbox('register_patient', __('Register patients', 'kivicare-telemed-zoom'), __('Give each patient their own join link, so Zoom names them for certain when they join or wait.', 'kivicare-telemed-zoom'));
        self::checkbox('delete_data_on_uninstall', __('Uninstall', 'kivicare-telemed-zoom'), __('Delete the meeting records, Zoom connections and these settings when the plugin is deleted (the meetings at Zoom stay).', 'kivicare-telemed-zoom'));
        echo '</table><p class="submit"><button type="submit" class="button button-primary" id="kct-save">' . esc_html__('Save', 'kivicare-telemed-zoom') . '</button></p>';
        echo '<p id="kct-status" role="status"></p></form>';
        echo '<h2>' . esc_html__('What a meeting will look like', 'kivicare-telemed-zoom') . '</h2><pre id="kct-preview" class="kct-preview"></pre></div>';
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
        self::checkbox('waiting_mail', __('Waiting patients', 'kivicare-telemed-zoom'), __('Mail me when my patient is waiting (the notice on these screens is always shown).', 'kivicare-telemed-zoom'));
        echo '</table><p class="submit"><button type="submit" class="button button-primary" id="kct-save">' . esc_html__('Save', 'kivicare-telemed-zoom') . '</button></p>';
        echo '<p id="kct-status" role="status"></p></form>';
        echo '<h2>' . esc_html__('Your recent visits', 'kivicare-telemed-zoom') . '</h2>';
        \KCTApp\visits\KCTVisitTable::render(\KCTApp\visits\KCTVisits::recent(['doctor_id' => get_current_user_id()], 20));
        echo '</div>';
    }
}
