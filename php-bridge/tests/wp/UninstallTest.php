<?php
use KCTApp\database\KCTMigrator;
use KCTApp\database\KCTUninstaller;
use KCTApp\meetings\KCTMappingRepository;
use KCTApp\settings\KCTSettings;

/** Uninstall deletes data only when the site owner opted in. (DDL: no transaction.) */
final class UninstallTest extends KCTHttpTestCase
{
    public function testDataStaysUnlessTheOwnerOptedIn(): void
    {
        global $wpdb;
        $table = KCTMappingRepository::table();
        update_option(KCTUninstaller::OPT_IN, false);
        $this->assertFalse(KCTUninstaller::run());
        $this->assertSame($table, $wpdb->get_var("SHOW TABLES LIKE '$table'"), 'kept without opt-in');
        $this->actAs($this->makeUser('administrator'));
        $r = $this->rest('PUT', '/kivicare/v1/settings/zoom-telemed', ['auth_type' => 'none', 'delete_data_on_uninstall' => true]);
        $this->assertSame(200, $r->get_status(), wp_json_encode($r->get_data()));
        $this->assertTrue($r->get_data()['data']['delete_data_on_uninstall']);
        try {
            $this->assertTrue(KCTUninstaller::run());
            $this->assertNull($wpdb->get_var("SHOW TABLES LIKE '$table'"), 'dropped on opt-in');
            $this->assertFalse(get_option(KCTSettings::OPTION));
            $this->assertFalse(get_option(KCTMigrator::OPTION));
        } finally {
            KCTMigrator::migrate();
        }
        $this->assertSame($table, $wpdb->get_var("SHOW TABLES LIKE '$table'"), 'reactivation brings it back');
    }
}
