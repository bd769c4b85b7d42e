<?php

/**
 * Autoloader for the plugin's classes: `KCTApp\a\b\Name` lives in `app/a/b/Name.php`.
 */

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'KCTApp\\', 7) !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, 7)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
