<?php
// Router for `php -S`: real files as they are, everything else through WordPress.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ($path !== '/' && is_file($file) && substr($file, -4) !== '.php') {
    return false;
}
if ($path !== '/' && is_file($file)) {
    chdir(dirname($file));
    require $file;
    return;
}
if (is_dir($file) && is_file(rtrim($file, '/') . '/index.php')) {
    chdir($file);
    require rtrim($file, '/') . '/index.php';
    return;
}
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
