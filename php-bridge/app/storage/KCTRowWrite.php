<?php

namespace KCTApp\storage;

/**
 * The plugin's own rows written with prepared queries. `$wpdb->insert` and `update` ask the
 * database for every column's charset and length (`SHOW FULL COLUMNS`) on a table's first
 * write in each request: 0.3 to 0.4 ms of a booking, and of every webhook that moves a
 * visit. So each write first checks the lengths against the caller's schema and refuses a
 * value that does not fit, as wpdb does (WordPress runs MySQL without strict mode, where it
 * would be cut silently); a query that is not ASCII is still checked for its charset by wpdb
 * itself. Column names are the callers' own constants.
 */
final class KCTRowWrite
{
    /**
     * Whether every text value fits its column: `$varchar` gives the varchar columns' lengths
     * in characters; any other text column is a `text` (65,535 bytes).
     *
     * @param array<string, mixed> $data
     * @param array<string, int>   $varchar
     */
    private static function fits(array $data, array $varchar): bool
    {
        foreach ($data as $column => $v) {
            if (!is_string($v)) {
                continue;
            }
            $max = $varchar[$column] ?? null;
            $ok = $max === null
                ? strlen($v) <= 65535
                : strlen($v) <= $max || preg_match('/^.{0,' . $max . '}$/su', $v) === 1;
            if (!$ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Inserts a row; the number of rows written (0 for an ignored duplicate), or false (a
     * value that does not fit, or the database's refusal).
     *
     * @param array<string, mixed> $data    column => value (int, string or null)
     * @param array<string, int>   $varchar see fits()
     * @return int|false
     */
    public static function insert(string $table, array $data, array $varchar, bool $ignore = false)
    {
        global $wpdb;
        if (!self::fits($data, $varchar)) {
            return false;
        }
        [$marks, $args] = self::placeholders($data);
        $sql = 'INSERT ' . ($ignore ? 'IGNORE ' : '') . "INTO $table (`" . implode('`, `', array_keys($marks)) . '`) VALUES (' . implode(', ', $marks) . ')';
        return $wpdb->query($args === [] ? $sql : $wpdb->prepare($sql, $args));
    }

    /**
     * Updates the row whose `$keyColumn` is `$key` if its `version` is still `$version`
     * (compare-and-swap); the number of rows written, or false (as insert()).
     *
     * @param array<string, mixed> $data
     * @param array<string, int>   $varchar see fits()
     * @return int|false
     */
    public static function updateAtVersion(string $table, array $data, array $varchar, string $keyColumn, int $key, int $version)
    {
        global $wpdb;
        if (!self::fits($data, $varchar)) {
            return false;
        }
        [$marks, $args] = self::placeholders($data);
        $sets = [];
        foreach ($marks as $column => $mark) {
            $sets[] = "`$column` = $mark";
        }
        $args[] = $key;
        $args[] = $version;
        return $wpdb->query($wpdb->prepare("UPDATE $table SET " . implode(', ', $sets) . " WHERE `$keyColumn` = %d AND `version` = %d", $args));
    }

    /** `$data`'s values as placeholders (NULL written as is) and the arguments they take. */
    private static function placeholders(array $data): array
    {
        $marks = [];
        $args = [];
        foreach ($data as $column => $v) {
            if ($v === null) {
                $marks[$column] = 'NULL';
                continue;
            }
            $marks[$column] = is_int($v) ? '%d' : '%s';
            $args[] = $v;
        }
        return [$marks, $args];
    }
}
