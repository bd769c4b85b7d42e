<?php

namespace KCTApp\zoom;

use KCTApp\storage\KCTSideDb;

/**
 * A cross-process, cross-server lock in the database (MariaDB/MySQL named locks), so that
 * only one worker refreshes a rotating token at a time wherever it runs. Held on the side
 * connection, where the token it guards is written and committed before the release.
 */
final class KCTLock
{
    public static function acquire(string $name, int $timeout): bool
    {
        return KCTSideDb::lock($name, $timeout);
    }

    public static function release(string $name): void
    {
        KCTSideDb::unlock($name);
    }
}
