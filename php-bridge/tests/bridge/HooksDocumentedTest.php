<?php
use PHPUnit\Framework\TestCase;

/**
 * The README's table of hooks is what a plugin developer reads instead of the code: every
 * `kct_zoom_*` filter and action the plugin fires is in it, as the kind it is and with as many
 * arguments as the code passes, and it names no hook the code does not fire. (`kct_zoom_visit`
 * was fired for a release without being listed.)
 */
final class HooksDocumentedTest extends TestCase
{
    /** @return array<string, array{kind: string, args: int, where: string}> what app/ fires */
    private static function fired(): array
    {
        $app = dirname(__DIR__, 2) . '/app';
        $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($app, FilesystemIterator::SKIP_DOTS));
        $hooks = [];
        foreach ($files as $file) {
            if ($file->getExtension() !== 'php') {
                continue;
            }
            $tokens = array_values(array_filter(
                token_get_all((string) file_get_contents($file->getPathname())),
                static function ($t): bool {
                    return !is_array($t) || !in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true);
                }
            ));
            foreach ($tokens as $i => $t) {
                if (!is_array($t) || $t[0] !== T_STRING || !in_array($t[1], ['apply_filters', 'do_action'], true)) {
                    continue;
                }
                $name = $tokens[$i + 2] ?? null;
                if (($tokens[$i + 1] ?? null) !== '(' || !is_array($name) || $name[0] !== T_CONSTANT_ENCAPSED_STRING) {
                    continue;
                }
                $hook = trim($name[1], '\'"');
                if (strpos($hook, 'kct_zoom_') !== 0) {
                    continue;
                }
                // The arguments after the name: commas at the call's own depth.
                $args = 0;
                $depth = 0;
                for ($j = $i + 3; $j < count($tokens); $j++) {
                    $c = is_array($tokens[$j]) ? $tokens[$j][1] : $tokens[$j];
                    if (in_array($c, ['(', '[', '{'], true)) {
                        $depth++;
                    } elseif (in_array($c, [')', ']', '}'], true)) {
                        if ($depth === 0) {
                            break;
                        }
                        $depth--;
                    } elseif ($c === ',' && $depth === 0) {
                        $args++;
                    }
                }
                $hooks[$hook] = [
                    'kind' => $t[1] === 'apply_filters' ? 'filter' : 'action',
                    'args' => $args,
                    'where' => substr($file->getPathname(), strlen($app) + 1) . ':' . $t[2],
                ];
            }
        }
        ksort($hooks);
        return $hooks;
    }

    /** @return array<string, array{kind: string, args: int}> the README's table */
    private static function documented(): array
    {
        $readme = (string) file_get_contents(dirname(__DIR__, 3) . '/README.md');
        preg_match_all('/^\s*\| `(kct_zoom_[a-z_]+)` \| (filter|action) \| ([^|]*) \|/m', $readme, $rows, PREG_SET_ORDER);
        $hooks = [];
        foreach ($rows as [, $hook, $kind, $args]) {
            $hooks[$hook] = ['kind' => $kind, 'args' => preg_match_all('/`\$[a-z_]+`/', $args)];
        }
        ksort($hooks);
        return $hooks;
    }

    public function testEveryHookThePluginFiresIsInTheReadmesTableWithItsKindAndArguments(): void
    {
        $fired = self::fired();
        $documented = self::documented();
        $this->assertGreaterThanOrEqual(15, count($fired), 'the scan of app/ found the hooks');
        foreach ($fired as $hook => $f) {
            $this->assertArrayHasKey($hook, $documented, "$hook (fired at {$f['where']}) is missing from the README's table of hooks");
            $this->assertSame(
                ['kind' => $f['kind'], 'args' => $f['args']],
                $documented[$hook],
                "$hook (fired at {$f['where']}): the README's row must give its kind and its arguments"
            );
        }
        $this->assertSame([], array_keys(array_diff_key($documented, $fired)), 'the README lists hooks the plugin does not fire');
    }
}
