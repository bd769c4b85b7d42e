<?php

namespace KCTApp\storage;

use KCTApp\security\KCTVault;

/**
 * Secrets at rest, in one place: what is sealed here is stored encrypted (KCTVault), in user
 * meta or options, through WordPress's connection or the side one (KCTSideDb). Reading
 * answers the value, null when nothing is stored, or false when what is stored cannot be
 * read (another key): the callers decide what that means (a doctor must reconnect, say).
 */
final class KCTEncrypted
{
    public static function sealText(string $plain): string
    {
        return KCTVault::encrypt($plain);
    }

    /** @return string|null|false */
    public static function openText(?string $stored)
    {
        if ($stored === null || $stored === '') {
            return null;
        }
        $plain = KCTVault::decrypt($stored);
        return $plain === null ? false : $plain;
    }

    public static function seal(array $value): string
    {
        return KCTVault::encrypt((string) wp_json_encode($value));
    }

    /** @return array|null|false */
    public static function open(?string $stored)
    {
        $plain = self::openText($stored);
        if (!is_string($plain)) {
            return $plain;
        }
        $v = json_decode($plain, true);
        return is_array($v) ? $v : false;
    }

    /** @return array|null|false */
    public static function userMeta(int $userId, string $key)
    {
        return self::open((string) get_user_meta($userId, $key, true));
    }

    public static function setUserMeta(int $userId, string $key, array $value): void
    {
        update_user_meta($userId, $key, self::seal($value));
    }

    /**
     * Through the side connection: committed at once, whatever transaction WordPress's
     * connection is in (KCTSideDb).
     *
     * @return array|null|false
     */
    public static function sideUserMeta(int $userId, string $key)
    {
        return self::open(KCTSideDb::getUserMeta($userId, $key));
    }

    public static function setSideUserMeta(int $userId, string $key, array $value): void
    {
        KCTSideDb::setUserMeta($userId, $key, self::seal($value));
    }

    /** @return array|null|false */
    public static function sideOption(string $name)
    {
        return self::open(KCTSideDb::getOption($name));
    }

    public static function setSideOption(string $name, array $value): void
    {
        KCTSideDb::setOption($name, self::seal($value));
    }
}
