<?php
use KCTApp\admin\KCTSettingsPages;
use KCTApp\KCTPlugin;

/** The plugin speaks the site's language: PHP strings from a .mo, the screens' through wp.i18n. */
final class LanguagesTest extends KCTWPTestCase
{
    private const DOMAIN = 'kivicare-telemed-zoom';
    private string $mo = '';

    protected function tearDown(): void
    {
        remove_all_filters('plugin_locale');
        unload_textdomain(self::DOMAIN);
        if ($this->mo !== '' && is_file($this->mo)) {
            unlink($this->mo);
        }
        parent::tearDown();
    }

    public function testALanguagePackTranslatesThePluginsStrings(): void
    {
        // A German pack where WordPress.org puts them, compiled from the shipped catalogue's
        // own msgid (so a renamed string fails here too).
        $pot = (string) file_get_contents(dirname(KCT_ZOOM_FILE) . '/languages/' . self::DOMAIN . '.pot');
        $this->assertStringContainsString('msgid "Zoom telemedicine"', $pot, 'the catalogue carries the settings page title');
        $dir = WP_LANG_DIR . '/plugins';
        wp_mkdir_p($dir);
        $po = tempnam(sys_get_temp_dir(), 'kct-po');
        file_put_contents($po, "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n"
            . "msgid \"Zoom telemedicine\"\nmsgstr \"Zoom-Telemedizin\"\n");
        $this->mo = $dir . '/' . self::DOMAIN . '-de_DE.mo';
        exec('msgfmt -o ' . escapeshellarg($this->mo) . ' ' . escapeshellarg($po), $out, $rc);
        unlink($po);
        $this->assertSame(0, $rc, 'msgfmt compiled the test pack');

        add_filter('plugin_locale', static fn () => 'de_DE');
        unload_textdomain(self::DOMAIN);
        $this->assertTrue(KCTPlugin::loadTextdomain());
        $this->assertSame('Zoom-Telemedizin', __('Zoom telemedicine', self::DOMAIN));
    }

    public function testTheSettingsScriptLoadsItsTranslationsThroughWpI18n(): void
    {
        $this->actAs($this->makeUser('administrator'));
        ob_start();
        KCTSettingsPages::renderAdmin();
        ob_end_clean();
        $script = wp_scripts()->registered['kct-zoom-settings'] ?? null;
        $this->assertNotNull($script, 'the settings page enqueues its script');
        $this->assertContains('wp-i18n', $script->deps);
        $this->assertSame(self::DOMAIN, $script->textdomain);
        $this->assertSame(dirname(KCT_ZOOM_FILE) . '/languages', $script->translations_path);
    }
}
