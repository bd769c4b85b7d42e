<?php
namespace KCTApp\controllers\api;

use KCTApp\settings\KCTSettings;

/**
 * `kivicare/v1/settings/zoom-telemed...`: the routes KiviCare's dashboard calls (CONTRACT §7)
 * and the webhook. Every answer is the dashboard's envelope `{status, message, data}`.
 */
class KCTZoomController extends \WP_REST_Controller
{
    public function __construct()
    {
        $this->namespace = 'kivicare/v1';
        $this->rest_base = 'settings/zoom-telemed';
    }

    public function register_routes(): void
    {
        register_rest_route($this->namespace, '/' . $this->rest_base, [
            [
                'methods' => \WP_REST_Server::READABLE,
                'callback' => [$this, 'get_settings'],
                'permission_callback' => [$this, 'admin_permissions_check'],
            ],
            [
                'methods' => \WP_REST_Server::EDITABLE,
                'callback' => [$this, 'update_settings'],
                'permission_callback' => [$this, 'admin_permissions_check'],
                'args' => [
                    'auth_type' => ['type' => 'string', 'enum' => ['none', 'oauth', 'server-to-server']],
                    'client_id' => ['type' => 'string'],
                    'client_secret' => ['type' => 'string'],
                    'account_id' => ['type' => 'string'],
                    'redirect_url' => ['type' => 'string'],
                    'webhook_secret' => ['type' => 'string'],
                    'server_to_server_enabled' => ['type' => 'string', 'enum' => ['Yes', 'No']],
                    'policy' => ['type' => 'object'],
                ],
            ],
        ]);
    }

    /** Administrators only. */
    public function admin_permissions_check(\WP_REST_Request $request)
    {
        if (current_user_can('manage_options')) {
            return true;
        }
        return new \WP_Error(
            'kct_forbidden',
            __('Only administrators can change the clinic\'s Zoom settings.', 'kivicare-telemed-zoom'),
            ['status' => is_user_logged_in() ? 403 : 401]
        );
    }

    protected static function envelope(bool $ok, string $message, $data = null, int $status = 200): \WP_REST_Response
    {
        return new \WP_REST_Response(['status' => $ok, 'message' => $message, 'data' => $data], $status);
    }

    protected static function failure(\WP_Error $e): \WP_REST_Response
    {
        $data = $e->get_error_data();
        $status = is_array($data) && isset($data['status']) ? (int) $data['status'] : 400;
        $payload = ['code' => $e->get_error_code()];
        if (is_array($data)) {
            foreach (['field', 'errors'] as $k) {
                if (isset($data[$k])) {
                    $payload[$k] = $data[$k];
                }
            }
        }
        return self::envelope(false, $e->get_error_message(), $payload, $status);
    }

    public function get_settings(\WP_REST_Request $request): \WP_REST_Response
    {
        return self::envelope(true, __('Zoom settings', 'kivicare-telemed-zoom'), KCTSettings::publicView());
    }

    public function update_settings(\WP_REST_Request $request): \WP_REST_Response
    {
        $result = KCTSettings::save($request->get_params());
        if (is_wp_error($result)) {
            return self::failure($result);
        }
        return self::envelope(true, __('Zoom settings saved.', 'kivicare-telemed-zoom'), KCTSettings::publicView());
    }
}
