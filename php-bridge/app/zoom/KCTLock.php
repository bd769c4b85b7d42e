<?php
namespace KCTApp\zoom;

/**
 * A cross-process, cross-server lock in the database (MariaDB/MySQL named locks), so that
 * only one worker refreshes a rotating token at a time wherever it runs.
 */
final class KCTLock
{
    public static function acquire(string $name, int $timeout = 10): bool
    {
        global $wpdb;
        return (string) $wpdb->get_var($wpdb->prepare('SELECT GET_LOCK(%s, %d)', self::key($name), $timeout)) === '1';
    }

    public static function release(string $name): void
    {
        global $wpdb;
        $wpdb->get_var($wpdb->prepare('SELECT RELEASE_LOCK(%s)', self::key($name)));
    }

    /** Named locks are server-wide: scope them to this site's tables. */
    private static function key(string $name): string
    {
        global $wpdb;
        return substr($wpdb->prefix . DB_NAME . ':' . $name, 0, 64);
    }
}
