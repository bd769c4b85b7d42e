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

    public function testUninstallRemovesTheCompiledCoreCacheWhateverTheOptIn(): void
    {
        update_option(KCTUninstaller::OPT_IN, false);
        $dir = rtrim((string) wp_upload_dir(null, false)['basedir'], '/') . '/kct-zoom-cache';
        wp_mkdir_p($dir);
        $ours = ["$dir/kct-core-0123.cwasm", "$dir/kct-core-4567.note", "$dir/kct-core-0123.tmp42", "$dir/index.php", "$dir/.htaccess"];
        foreach ($ours as $f) {
            file_put_contents($f, 'x');
        }
        $this->assertFalse(KCTUninstaller::run(), 'no data deleted without the opt-in');
        foreach ($ours as $f) {
            $this->assertFileDoesNotExist($f);
        }
        $this->assertDirectoryDoesNotExist($dir, 'the default directory goes with its guards');

        // Something else in it: the compiled cores go, the rest and the directory stay.
        wp_mkdir_p($dir);
        foreach (['kct-core-89ab.cwasm' => 'x', 'index.php' => 'x', 'notes.txt' => 'keep'] as $f => $text) {
            file_put_contents("$dir/$f", $text);
        }
        try {
            KCTUninstaller::run();
            $this->assertFileDoesNotExist("$dir/kct-core-89ab.cwasm");
            $this->assertFileExists("$dir/notes.txt");
            $this->assertFileExists("$dir/index.php", 'the guard stays while the directory does');
        } finally {
            array_map('unlink', glob("$dir/*") ?: []);
            @rmdir($dir);
        }
    }
}
