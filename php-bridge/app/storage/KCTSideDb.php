<?php

namespace KCTApp\storage;

/**
 * A second connection to the same database, in autocommit, for what must not ride on
 * KiviCare's booking transaction (CONTRACT §3 A: `create_meeting` runs inside
 * `START TRANSACTION` on WordPress's connection). A rotated OAuth token written here is
 * committed the moment Zoom issues it, whatever that transaction does later; the named lock
 * that makes a refresh single-flight is held here and released only after that commit; and
 * reads here always see the latest committed token, never an older snapshot.
 */
final class KCTSideDb
{
    /** @var \wpdb|null */
    private static $db;

    public static function db(): \wpdb
    {
        if (self::$db === null) {
            global $wpdb;
            $db = new KCTSideConnection(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
            if (!$db->ready) {
                // A server or setting the lean connect does not suit: connect as WordPress does.
                $db = new \wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
                $db->query('SET SESSION innodb_lock_wait_timeout = ' . KCTSideConnection::LOCK_WAIT);
            }
            $db->set_prefix($wpdb->base_prefix);
            $db->suppress_errors(true);
            self::$db = $db;
        }
        if (is_multisite() && self::$db->blogid !== get_current_blog_id()) {
            // The site WordPress is switched to: its options table (users are the network's).
            self::$db->set_blog_id(get_current_blog_id());
        }
        return self::$db;
    }

    public static function getUserMeta(int $userId, string $key): ?string
    {
        $db = self::db();
        $v = $db->get_var($db->prepare("SELECT meta_value FROM {$db->usermeta} WHERE user_id = %d AND meta_key = %s ORDER BY umeta_id LIMIT 1", $userId, $key));
        return $v === null ? null : (string) $v;
    }

    public static function setUserMeta(int $userId, string $key, string $value): bool
    {
        $db = self::db();
        $id = $db->get_var($db->prepare("SELECT umeta_id FROM {$db->usermeta} WHERE user_id = %d AND meta_key = %s ORDER BY umeta_id LIMIT 1", $userId, $key));
        $ok = $id === null
            ? $db->insert($db->usermeta, ['user_id' => $userId, 'meta_key' => $key, 'meta_value' => $value]) === 1
            : $db->update($db->usermeta, ['meta_value' => $value], ['umeta_id' => (int) $id]) !== false;
        wp_cache_delete($userId, 'user_meta');
        return $ok;
    }

    public static function deleteUserMeta(int $userId, string $key): void
    {
        $db = self::db();
        $db->delete($db->usermeta, ['user_id' => $userId, 'meta_key' => $key]);
        wp_cache_delete($userId, 'user_meta');
    }

    public static function getOption(string $name): ?string
    {
        $db = self::db();
        $v = $db->get_var($db->prepare("SELECT option_value FROM {$db->options} WHERE option_name = %s", $name));
        return $v === null ? null : (string) $v;
    }

    /** Stored with autoload off: these values are read here, never through the options cache. */
    public static function setOption(string $name, string $value): bool
    {
        $db = self::db();
        $ok = $db->query($db->prepare(
            "INSERT INTO {$db->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)",
            $name,
            $value
        )) !== false;
        wp_cache_delete($name, 'options');
        wp_cache_delete('notoptions', 'options');
        return $ok;
    }

    /** A MariaDB/MySQL named lock, scoped to this site; held by this connection. */
    public static function lock(string $name, int $timeout): bool
    {
        $db = self::db();
        return (string) $db->get_var($db->prepare('SELECT GET_LOCK(%s, %d)', self::lockKey($name), $timeout)) === '1';
    }

    public static function unlock(string $name): void
    {
        $db = self::db();
        $db->get_var($db->prepare('SELECT RELEASE_LOCK(%s)', self::lockKey($name)));
    }

    /**
     * Named locks are server-wide and at most 64 characters: hashed, not truncated, so two
     * long names (or two sites' prefixes) never share a lock.
     */
    public static function lockKey(string $name): string
    {
        global $wpdb;
        return 'kct:' . substr(hash('sha256', $wpdb->prefix . "\0" . DB_NAME . "\0" . $name), 0, 56);
    }
}
