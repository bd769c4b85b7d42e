<?php

namespace KCTApp\controllers\api;

use KCTApp\admin\KCTStatusScreen;
use KCTApp\auth\KCTTokenStore;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;
use KCTApp\settings\KCTAppCheck;
use KCTApp\storage\KCTSite;
use KCTApp\meetings\KCTStartLink;
use KCTApp\connection\KCTConnect;
use KCTApp\controllers\api\KCTWebhookController;

/**
 * `kivicare/v1/settings/zoom-telemed...`: the routes KiviCare's dashboard calls (CONTRACT §7)
 * and the webhook. Every answer is the dashboard's envelope `{status, message, data}`.
 */
class KCTZoomController extends \WP_REST_Controller
{
    /** Field caps, far above any real value: Zoom ids and secrets are short, emails 320. */
    public const MAX_ID = 200;
    public const MAX_SECRET = 500;
    public const MAX_URL = 2000;
    public const MAX_EMAIL = 320;

    /** KiviCare's namespace: its dashboard calls the addon here (CONTRACT §7). */
    public const KIVICARE_NAMESPACE = 'kivicare/v1';
    /**
     * The addon's own screens call the same routes here: KiviCare end-to-end encrypts every
     * `kivicare/v*` answer to a user who has opened its dashboard (CONTRACT §9), and a plain
     * `fetch` then reads nothing.
     */
    public const OWN_NAMESPACE = 'kct-zoom/v1';

    public function __construct(string $namespace = self::KIVICARE_NAMESPACE)
    {
        $this->namespace = $namespace;
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
                // Each field capped here, so an oversized one is refused naming the field
                // (the core's 1 MiB input cap names none).
                'args' => [
                    'auth_type' => ['type' => 'string', 'enum' => ['none', 'oauth', 'server-to-server']],
                    'client_id' => ['type' => 'string', 'maxLength' => self::MAX_ID],
                    'client_secret' => ['type' => 'string', 'maxLength' => self::MAX_SECRET],
                    'account_id' => ['type' => 'string', 'maxLength' => self::MAX_ID],
                    'redirect_url' => ['type' => 'string', 'maxLength' => self::MAX_URL],
                    'webhook_secret' => ['type' => 'string', 'maxLength' => self::MAX_SECRET],
                    'server_to_server_enabled' => ['type' => 'string', 'enum' => ['Yes', 'No']],
                    'policy' => ['type' => 'object'],
                    'delete_data_on_uninstall' => ['type' => 'boolean'],
                    'check_in_from_zoom' => ['type' => 'boolean'],
                ],
            ],
        ]);
        $doctor = [$this, 'doctor_permissions_check'];
        register_rest_route($this->namespace, '/' . $this->rest_base . '/doctor-config', [
            ['methods' => \WP_REST_Server::READABLE, 'callback' => [$this, 'get_doctor_config'], 'permission_callback' => $doctor],
            ['methods' => \WP_REST_Server::EDITABLE, 'callback' => [$this, 'update_doctor_config'], 'permission_callback' => $doctor,
                'args' => [
                    'auth_type' => ['type' => 'string', 'enum' => ['none', 'oauth', 'server-to-server']],
                    'account_id' => ['type' => 'string', 'maxLength' => self::MAX_ID],
                    'client_id' => ['type' => 'string', 'maxLength' => self::MAX_ID],
                    'client_secret' => ['type' => 'string', 'maxLength' => self::MAX_SECRET],
                    'zoom_user' => ['type' => 'string', 'maxLength' => self::MAX_EMAIL],
                    'waiting_mail' => ['type' => 'boolean'],
                ]],
        ]);
        // Under the clinic-wide Server-to-Server app, administrators assign each doctor's Zoom
        // user (checked with Zoom); doctors cannot name one themselves.
        register_rest_route($this->namespace, '/' . $this->rest_base . '/doctor-host', [
            'methods' => \WP_REST_Server::EDITABLE, 'callback' => [$this, 'assign_doctor_host'], 'permission_callback' => [$this, 'admin_permissions_check'],
            'args' => [
                'doctor_id' => ['type' => 'integer', 'required' => true, 'minimum' => 1],
                'zoom_user' => ['type' => 'string', 'required' => true, 'maxLength' => self::MAX_EMAIL],
            ],
        ]);
        register_rest_route($this->namespace, '/' . $this->rest_base . '/authorize', [
            'methods' => \WP_REST_Server::READABLE, 'callback' => [$this, 'authorize'], 'permission_callback' => $doctor,
        ]);
        register_rest_route($this->namespace, '/' . $this->rest_base . '/test-connection', [
            'methods' => \WP_REST_Server::EDITABLE, 'callback' => [$this, 'test_connection'], 'permission_callback' => $doctor,
        ]);
        register_rest_route($this->namespace, '/' . $this->rest_base . '/disconnect', [
            'methods' => \WP_REST_Server::READABLE, 'callback' => [$this, 'disconnect'], 'permission_callback' => $doctor,
        ]);
        register_rest_route($this->namespace, '/' . $this->rest_base . '/meeting/(?P<appointment_id>\d+)', [
            'methods' => \WP_REST_Server::READABLE, 'callback' => [$this, 'meeting_links'], 'permission_callback' => [$this, 'meeting_permissions_check'],
            'args' => ['appointment_id' => ['type' => 'integer', 'required' => true, 'minimum' => 1]],
        ]);
        if ($this->namespace !== self::KIVICARE_NAMESPACE) {
            // The status screen's data, for administrators' own tools (KiviCare's dashboard
            // does not call it).
            register_rest_route($this->namespace, '/' . $this->rest_base . '/status', [
                'methods' => \WP_REST_Server::READABLE, 'callback' => [$this, 'status'], 'permission_callback' => [$this, 'admin_permissions_check'],
                'args' => ['outcome' => ['type' => 'string', 'enum' => ['checked_in', 'checked_out', 'no_show', 'checkin_refused', 'checkout_refused']]],
            ]);
            register_rest_route($this->namespace, '/' . $this->rest_base . '/status/retry/(?P<appointment_id>\d+)', [
                'methods' => \WP_REST_Server::CREATABLE, 'callback' => [$this, 'retry'], 'permission_callback' => [$this, 'admin_permissions_check'],
                'args' => ['appointment_id' => ['type' => 'integer', 'required' => true, 'minimum' => 1]],
            ]);
            return; // Zoom knows one callback and one webhook URL.
        }
        // The two public routes authenticate otherwise: the callback by the signed one-time
        // state bound to the doctor who started the flow, the webhook by Zoom's signature.
        // Neither is E2E-encrypted by KiviCare (Zoom and the browser redirect send plain requests).
        register_rest_route($this->namespace, '/' . $this->rest_base . '/callback', [
            'methods' => \WP_REST_Server::READABLE, 'callback' => [$this, 'callback'], 'permission_callback' => '__return_true',
            'encryption' => false,
            'args' => [
                'code' => ['type' => 'string', 'required' => true, 'minLength' => 1, 'maxLength' => self::MAX_SECRET],
                'state' => ['type' => 'string', 'required' => true, 'minLength' => 1, 'maxLength' => self::MAX_URL],
            ],
        ]);
        register_rest_route($this->namespace, '/' . $this->rest_base . '/webhook', [
            'methods' => \WP_REST_Server::CREATABLE, 'callback' => [KCTWebhookController::class, 'handle'], 'permission_callback' => '__return_true',
            'encryption' => false,
        ]);
    }

    public function status(\WP_REST_Request $request): \WP_REST_Response
    {
        $filter = $request['outcome'] ? ['outcome' => (string) $request['outcome']] : [];
        return self::envelope(true, __('Zoom telemedicine status', 'kivicare-telemed-zoom'), KCTStatusScreen::data(time(), $filter));
    }

    /** "Retry now" for one appointment: the core decides what a fresh ensure means for it. */
    public function retry(\WP_REST_Request $request): \WP_REST_Response
    {
        $r = KCTStatusScreen::retry((int) $request['appointment_id']);
        if (is_wp_error($r)) {
            return self::failure($r);
        }
        $row = $r['row'];
        return self::envelope(true, __('Retried.', 'kivicare-telemed-zoom'), [
            'appointment_id' => (int) $request['appointment_id'],
            'status' => $row['status'] ?? null,
            'owed' => $row['intent'] ?? null,
            'last_error' => $row['last_error'] ?? null,
        ]);
    }

    /** A doctor, acting on their own configuration only (routes take no doctor id). */
    public function doctor_permissions_check(\WP_REST_Request $request)
    {
        if (!is_user_logged_in()) {
            return new \WP_Error('kct_unauthenticated', __('Please log in.', 'kivicare-telemed-zoom'), ['status' => 401]);
        }
        if (!KCTConnect::isDoctor(get_current_user_id())) {
            return new \WP_Error('kct_forbidden', __('Only doctors have a Zoom connection.', 'kivicare-telemed-zoom'), ['status' => 403]);
        }
        return true;
    }

    /** The appointment's own doctor (start link) or patient (join link). */
    public function meeting_permissions_check(\WP_REST_Request $request)
    {
        if (!is_user_logged_in()) {
            return new \WP_Error('kct_unauthenticated', __('Please log in.', 'kivicare-telemed-zoom'), ['status' => 401]);
        }
        $row = KCTMappingRepository::find((int) $request['appointment_id']);
        $me = get_current_user_id();
        if ($row !== null && ((int) $row['doctor_id'] === $me || (int) $row['patient_id'] === $me)) {
            return true;
        }
        return new \WP_Error('kct_forbidden', __('This appointment is not yours.', 'kivicare-telemed-zoom'), ['status' => 403]);
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
        $view = KCTSettings::publicView();
        return self::envelope(true, trim(__('Zoom settings saved.', 'kivicare-telemed-zoom') . ' ' . $view['app_check']), $view);
    }

    public function get_doctor_config(\WP_REST_Request $request): \WP_REST_Response
    {
        return self::envelope(true, __('Zoom configuration', 'kivicare-telemed-zoom'), KCTConnect::doctorView(get_current_user_id()));
    }

    public function update_doctor_config(\WP_REST_Request $request): \WP_REST_Response
    {
        $params = $request->get_params();
        $mail = $params['waiting_mail'] ?? null;
        unset($params['waiting_mail']);
        // The Zoom fields are checked (and the doctor's own app asked) only when some are
        // sent: a request that changes only the preference needs neither.
        $warning = '';
        if (array_intersect_key($params, array_flip(KCTConnect::DOCTOR_FIELDS)) !== []) {
            $r = KCTConnect::saveDoctorConfig(get_current_user_id(), $params);
            if (is_wp_error($r)) {
                return self::failure($r); // refused: the preference is not changed either
            }
            $warning = KCTAppCheck::words(['missing' => $r['missing'], 'mode' => 'server-to-server']);
        }
        if ($mail !== null) {
            // A preference, not a Zoom setting.
            update_user_meta(get_current_user_id(), KCTSite::userKey(\KCTApp\visits\KCTVisits::WAITING_MAIL), $mail ? '1' : '0');
        }
        $view = KCTConnect::doctorView(get_current_user_id());
        return self::envelope(true, trim(__('Zoom configuration saved.', 'kivicare-telemed-zoom') . ' ' . $warning), $view + ['app_check' => $warning]);
    }

    public function assign_doctor_host(\WP_REST_Request $request): \WP_REST_Response
    {
        $r = KCTConnect::assignClinicHost((int) $request['doctor_id'], (string) $request['zoom_user']);
        if (is_wp_error($r)) {
            return self::failure($r);
        }
        return self::envelope(true, __('The doctor\'s Zoom user is saved.', 'kivicare-telemed-zoom'));
    }

    public function authorize(\WP_REST_Request $request): \WP_REST_Response
    {
        $url = KCTConnect::authorizeUrl(get_current_user_id());
        if (is_wp_error($url)) {
            return self::failure($url);
        }
        return self::envelope(true, __('Continue at Zoom.', 'kivicare-telemed-zoom'), ['redirect_url' => $url]);
    }

    /** Zoom sends the browser back here; the answer sends it on to the doctor's page. */
    public function callback(\WP_REST_Request $request): \WP_REST_Response
    {
        // A browser redirect carries no REST nonce, so WordPress runs this as user 0: read the
        // logged-in cookie explicitly, and the binder cookie set when the flow started.
        $user = (int) wp_validate_auth_cookie('', 'logged_in');
        $binder = isset($_COOKIE[KCTConnect::BINDER_COOKIE]) ? (string) wp_unslash($_COOKIE[KCTConnect::BINDER_COOKIE]) : null;
        $r = KCTConnect::callback((string) $request['code'], (string) $request['state'], $user, $binder);
        KCTConnect::clearBinderCookie();
        $target = admin_url('admin.php?page=kct-zoom-doctor&kct_zoom=' . (is_wp_error($r) ? 'error&kct_zoom_error=' . rawurlencode($r->get_error_code()) : 'connected'));
        /**
         * Filters where the browser goes after the OAuth callback.
         *
         * @since 4.0.0
         * @param string        $target
         * @param int|\WP_Error $result the connected doctor, or what went wrong
         */
        $target = apply_filters('kct_zoom_oauth_return_url', $target, $r);
        $response = is_wp_error($r)
            ? self::failure($r)
            : self::envelope(true, __('Zoom is connected.', 'kivicare-telemed-zoom'), ['doctor_id' => $r]);
        $response->set_status(302);
        $response->header('Location', $target);
        return $response;
    }

    public function test_connection(\WP_REST_Request $request): \WP_REST_Response
    {
        $me = KCTConnect::testConnection(get_current_user_id());
        if (is_wp_error($me)) {
            return self::envelope(false, $me->get_error_message(), ['success' => false, 'error' => $me->get_error_code()]);
        }
        return self::envelope(true, sprintf(__('Connected to Zoom as %s.', 'kivicare-telemed-zoom'), $me['email'] ?? $me['id']), ['success' => true, 'zoom_user' => $me['email'] ?? $me['id']]);
    }

    public function disconnect(\WP_REST_Request $request): \WP_REST_Response
    {
        $me = get_current_user_id();
        // Meetings made through this connection stay in the doctor's Zoom account: say so.
        $kept = KCTMappingRepository::countConnectedUpcoming($me, time());
        KCTConnect::disconnect($me);
        $message = __('Zoom is disconnected.', 'kivicare-telemed-zoom');
        if ($kept > 0) {
            $message .= ' ' . sprintf(
                /* translators: %d: how many upcoming telemedicine meetings */
                _n(
                    'Your %d upcoming telemedicine meeting stays in your Zoom account and its link still works, but a change to it (a new time, a cancellation) reaches Zoom only once you connect again.',
                    'Your %d upcoming telemedicine meetings stay in your Zoom account and their links still work, but changes to them (new times, cancellations) reach Zoom only once you connect again.',
                    $kept,
                    'kivicare-telemed-zoom'
                ),
                $kept
            );
        }
        return self::envelope(true, $message, ['connection_status' => KCTTokenStore::connection($me), 'upcoming_kept' => $kept]);
    }

    /**
     * The host gets a fresh start link; the patient gets the join link, while the meeting is
     * live (a cancelled or deleted one's link leads nowhere).
     */
    public function meeting_links(\WP_REST_Request $request): \WP_REST_Response
    {
        $id = (int) $request['appointment_id'];
        $row = KCTMappingRepository::find($id);
        $join = KCTMappingRepository::isLive($row) ? KCTMappingRepository::patientJoinUrl($row) : null;
        $data = ['appointment_id' => $id, 'join_url' => $join, 'status' => $row['status'] ?? null];
        if ((int) ($row['doctor_id'] ?? 0) === get_current_user_id()) {
            $start = KCTStartLink::get($id);
            if (is_wp_error($start)) {
                return self::failure($start);
            }
            $data['start_url'] = $start;
        }
        return self::envelope(true, __('Zoom meeting', 'kivicare-telemed-zoom'), $data);
    }
}
