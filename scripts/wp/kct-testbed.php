<?php
/**
 * Plugin Name: KCT test bed
 * Description: Test bed only: no mail server here, and loopback HTTP to the fake Zoom is allowed.
 */
add_filter('pre_wp_mail', '__return_true');
add_filter('http_request_host_is_external', function ($external, $host) {
    return $external || $host === '127.0.0.1';
}, 10, 2);
