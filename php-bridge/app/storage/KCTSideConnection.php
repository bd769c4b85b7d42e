<?php

namespace KCTApp\storage;

/**
 * KCTSideDb's connection: wpdb's API, opened in one round trip after the handshake. wpdb's
 * own connect asks the server five more times (the charset, the collation, the SQL mode read
 * and set, the database): about 0.4 ms of every request that reads a doctor's token. Here
 * the charset travels with the handshake (so the client escapes for it too), the database is
 * named in it, and one command sets the collation and the lock wait. The server's SQL mode is
 * kept: this connection writes only sealed values and takes named locks.
 */
final class KCTSideConnection extends \wpdb
{
    /** Fail fast rather than wait behind a long transaction on the other connection. */
    public const LOCK_WAIT = 10;

    /**
     * @param bool $allow_bail unused: a failed connect answers false, and KCTSideDb then
     *                         connects as WordPress does
     */
    public function db_connect($allow_bail = true)
    {
        global $wpdb;
        $this->is_mysql = true;
        $this->charset = $wpdb->charset ?: 'utf8mb4';
        $this->collate = $wpdb->collate;
        if (!function_exists('mysqli_init')) {
            return false;
        }
        mysqli_report(MYSQLI_REPORT_OFF);
        [$host, $port, $socket, $ipv6] = $this->parse_db_host($this->dbhost) ?: [$this->dbhost, null, null, false];
        if ($ipv6 && extension_loaded('mysqlnd')) {
            $host = "[$host]";
        }
        $dbh = mysqli_init();
        $init = 'SET SESSION innodb_lock_wait_timeout = ' . self::LOCK_WAIT;
        if ($this->collate !== '' && preg_match('/^\w+$/', $this->charset . $this->collate) === 1) {
            $init = "SET NAMES '{$this->charset}' COLLATE '{$this->collate}', " . substr($init, 4);
        }
        if (!$dbh || !mysqli_options($dbh, MYSQLI_SET_CHARSET_NAME, $this->charset) || !mysqli_options($dbh, MYSQLI_INIT_COMMAND, $init)) {
            return false;
        }
        $flags = defined('MYSQL_CLIENT_FLAGS') ? (int) MYSQL_CLIENT_FLAGS : 0;
        // Silenced: a failure answers false, and KCTSideDb connects as WordPress does (which
        // reports it as WordPress reports its own).
        if (!@mysqli_real_connect($dbh, $host, $this->dbuser, $this->dbpassword, $this->dbname, $port !== null ? (int) $port : null, $socket, $flags)) {
            return false;
        }
        $this->dbh = $dbh;
        $this->ready = true;
        return true;
    }
}
