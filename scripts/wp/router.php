<?php
// Router for `php -S`: real files as they are, everything else through WordPress.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
// A subdirectory network's sites (/clinic2/wp-admin/...) share WordPress's files, as the
// rewrite rules WordPress gives for Apache and nginx arrange.
if (preg_match('#^/[a-z0-9-]+(/wp-(?:admin|includes|content)/.*|/wp-[a-z-]+\.php)$#', $path, $m)
    && is_file($_SERVER['DOCUMENT_ROOT'] . $m[1]) || preg_match('#^/[a-z0-9-]+(/wp-admin/?)$#', $path, $m)) {
    $path = $m[1];
}
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
