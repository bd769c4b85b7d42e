<?php

/**
 * Uninstall: deletes the addon's data only when the site owner opted in (the "delete data on
 * uninstall" setting, or KCT_ZOOM_DELETE_DATA in wp-config.php). Otherwise meetings,
 * mappings and connections survive a reinstall. The compiled core cached on disk (wasmtime)
 * is always removed: it is rebuilt when needed.
 */

defined('WP_UNINSTALL_PLUGIN') || exit;

require_once __DIR__ . '/app/autoload.php';
\KCTApp\database\KCTUninstaller::run();
