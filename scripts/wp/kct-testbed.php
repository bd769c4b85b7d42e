<?php
/**
 * Plugin Name: KCT test bed
 * Description: Test bed only: no mail server here, and loopback HTTP to the fake Zoom is allowed.
 */
add_filter('pre_wp_mail', '__return_true');
add_filter('http_request_host_is_external', function ($external, $host) {
    return $external || $host === '127.0.0.1';
}, 10, 2);
// Zoom calls give up after 3 s here (15 s in the plugin), so a "latency past the HTTP
// timeout" fault costs seconds, not minutes, in the soak.
add_filter('http_request_args', function ($args, $url) {
    if (defined('KCT_ZOOM_OAUTH_BASE') && strpos($url, KCT_ZOOM_OAUTH_BASE) === 0) {
        $args['timeout'] = 3;
    }
    return $args;
}, 10, 2);
