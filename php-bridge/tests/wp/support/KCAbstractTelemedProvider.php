<?php
namespace App\abstracts;

/**
 * TEST-ONLY stand-in for KiviCare core 4.3's `App\abstracts\KCAbstractTelemedProvider`,
 * written from CONTRACT.md §2 (no KiviCare code): the constructor, init_hook, get_config
 * and is_enabled behave as described there, and every abstract method has the signature
 * core declares, so a child class that loads here loads under KiviCare too.
 */
abstract class KCAbstractTelemedProvider
{
    protected $settings_key;
    protected $config;
    protected $provider_id;
    protected $provider_name;

    public function __construct($settings_key)
    {
        $this->settings_key = $settings_key;
        $this->config = $this->get_config();
        $this->init();
    }

    protected function init()
    {
    }

    /** Runs on every construction, so hooks duplicate (as in core). */
    public function init_hook()
    {
        $id = $this->get_provider_id();
        add_action("wp_ajax_kc_test_{$id}_connection", [$this, 'test_connection_ajax']);
        add_action("wp_ajax_kc_{$id}_webhook", [$this, 'handle_webhook']);
        add_action("wp_ajax_nopriv_kc_{$id}_webhook", [$this, 'handle_webhook']);
    }

    public function get_config()
    {
        $stored = get_option($this->settings_key, []);
        return array_merge($this->get_default_config(), is_array($stored) ? $stored : []);
    }

    public function is_enabled()
    {
        return !empty($this->config['enabled']) && $this->is_configured();
    }

    public function test_connection_ajax()
    {
    }

    public function handle_webhook()
    {
    }

    public function disconnect_doctor(int $doctor_id): bool
    {
        return false;
    }

    public function supports_recording()
    {
        return false;
    }

    public function supports_waiting_room()
    {
        return false;
    }

    abstract protected function get_default_config();
    abstract public function get_provider_id();
    abstract public function get_provider_name();
    abstract public function is_configured();
    abstract public function create_meeting($meeting_data = array());
    abstract public function update_meeting($meeting_id, $meeting_data = array());
    abstract public function get_meeting_by_appointment($appointment_id);
    abstract public function cancel_meeting_by_appointment($appointment_id);
    abstract public function get_doctor_access_token($doctor_id);
    abstract public function test_connection($data = [], $doctor_id = 0);
    abstract public function delete_meeting($meeting_id);
    abstract public function get_meeting($meeting_id);
    abstract public function update_doctor_config(int $doctor_id, array $config): bool;
    abstract public function get_authorization_url($doctor_id): string;
    abstract public function is_doctor_telemed_connected(): bool;
    abstract protected function save_zoom_meeting_record($meeting_data);
    abstract protected function delete_meeting_record($meeting_id);
}
