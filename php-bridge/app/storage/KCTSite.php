<?php

namespace KCTApp\storage;

/**
 * Multisite: each site of a network keeps its own settings, tables, tokens and locks. Options
 * and tables follow the site by themselves ($wpdb->prefix); users are shared by the network,
 * so the addon's user meta keys carry the site (as WordPress's own `wp_2_capabilities` do).
 * The main site, and a single site, keep the plain keys, so nothing moves on an upgrade.
 */
final class KCTSite
{
    /** The user meta key for this site. */
    public static function userKey(string $base): string
    {
        if (!is_multisite() || is_main_site()) {
            return $base;
        }
        global $wpdb;
        return $wpdb->get_blog_prefix() . $base;
    }

    /**
     * Runs `$fn` for every site of the network (switched to it), or once on a single site.
     *
     * @return array<int, mixed> each site's result, by site id
     */
    public static function each(callable $fn): array
    {
        if (!is_multisite()) {
            return [get_current_blog_id() => $fn()];
        }
        $out = [];
        foreach (get_sites(['fields' => 'ids', 'number' => 0]) as $id) {
            switch_to_blog((int) $id);
            try {
                $out[(int) $id] = $fn();
            } finally {
                restore_current_blog();
            }
        }
        return $out;
    }
}
