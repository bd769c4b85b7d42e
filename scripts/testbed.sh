#!/usr/bin/env bash
# The test bed: a private MariaDB, a real WordPress with this plugin, the fake Zoom, served by
# `php -S` with several workers. Two environments side by side: `test` (ports 8091/9191, a
# clean database every run) and `demo` (ports 8080/9100). A third, `dist` (ports 8093/9193),
# installs the release zip (KCT_DIST_ZIP) through WordPress's own upgrader instead of linking
# php-bridge/, and serves it as a clinic's server would (the header from its preload.php).
# A fourth, `multisite` (ports 8094/9194), is a subdirectory network of two sites with the
# plugin network-activated.
#
#   scripts/testbed.sh up ENV      start everything (reusing what it safely can)
#   scripts/testbed.sh down ENV    stop everything started for ENV (by pid)
#   scripts/testbed.sh run ENV CMD run CMD with everything up, then stop it all (trap)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ACTION=${1:?usage: testbed.sh up|down|run ENV [CMD]}
ENV_NAME=${2:?usage: testbed.sh up|down|run ENV [CMD]}
case "$ENV_NAME" in
  test) WP_PORT=${KCT_WP_PORT:-8091}; ZOOM_PORT=${KCT_ZOOM_PORT:-9191} ;;
  demo) WP_PORT=${KCT_WP_PORT:-8080}; ZOOM_PORT=${KCT_ZOOM_PORT:-9100} ;;
  dist) WP_PORT=${KCT_WP_PORT:-8093}; ZOOM_PORT=${KCT_ZOOM_PORT:-9193} ;;
  multisite) WP_PORT=${KCT_WP_PORT:-8094}; ZOOM_PORT=${KCT_ZOOM_PORT:-9194} ;;
  *) echo "ENV is test, demo, dist or multisite" >&2; exit 2 ;;
esac
RUN="$ROOT/.run/$ENV_NAME"
SOCK="$RUN/mysql/mysqld.sock"
WP="$RUN/wordpress"
DB="kct_$ENV_NAME"
export KCT_WP_ROOT="$WP" KCT_WP_URL="http://127.0.0.1:$WP_PORT" KCT_ZOOM_URL="http://127.0.0.1:$ZOOM_PORT"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # what, test command
  for _ in $(seq 1 300); do eval "$2" && return 0; sleep 0.1; done
  echo "testbed: $1 did not come up" >&2; return 1
}

start_mariadb() {
  mkdir -p "$RUN/mysql"
  if alive "$RUN/mysql/mysqld.pid" && [ -S "$SOCK" ]; then return 0; fi
  if [ ! -d "$RUN/mysql/data/mysql" ]; then
    mariadb-install-db --user=root --datadir="$RUN/mysql/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$RUN/mysql/install.log" 2>&1
  fi
  mariadbd --user=root --datadir="$RUN/mysql/data" --socket="$SOCK" --pid-file="$RUN/mysql/mysqld.pid" \
    --skip-networking --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M --log-error="$RUN/mysql/error.log" >"$RUN/mysql/stdout.log" 2>&1 &
  wait_for MariaDB "[ -S '$SOCK' ] && mariadb --socket='$SOCK' -e 'select 1' >/dev/null 2>&1"
}

fresh_database() {
  mariadb --socket="$SOCK" <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'kct'@'localhost' IDENTIFIED BY 'kct-local-only';
GRANT ALL PRIVILEGES ON $DB.* TO 'kct'@'localhost';
SQL
}

install_wordpress() {
  if [ ! -f "$WP/wp-settings.php" ]; then
    rm -rf "$WP"
    cp -rL /usr/share/wordpress "$WP"
  fi
  sed -e "s#@DB_NAME@#$DB#; s#@DB_SOCK@#$SOCK#; s#@WP_URL@#$KCT_WP_URL#; s#@ZOOM_URL@#$KCT_ZOOM_URL#" \
    scripts/wp/wp-config.php.in > "$WP/wp-config.php"
  mkdir -p "$WP/wp-content/plugins" "$WP/wp-content/mu-plugins"
  cp scripts/wp/kct-testbed.php "$WP/wp-content/mu-plugins/kct-testbed.php"
  if [ "$ENV_NAME" = dist ]; then
    rm -rf "$WP/wp-content/plugins/kivicare-telemed-zoom" "$WP/wp-content/upgrade"
    php scripts/wp/install.php "$WP" "$KCT_WP_URL" --no-plugin
    php scripts/wp/install-zip.php "$WP" "$KCT_WP_URL" "${KCT_DIST_ZIP:?KCT_DIST_ZIP: the release zip}"
    PLUGIN="$WP/wp-content/plugins/kivicare-telemed-zoom"
    php "$PLUGIN/preload.php" header > "$RUN/kct_runtime.preload.h"
    PRELOAD_HEADER="$RUN/kct_runtime.preload.h"
  elif [ "$ENV_NAME" = multisite ]; then
    ln -sfn "$ROOT/php-bridge" "$WP/wp-content/plugins/kivicare-telemed-zoom"
    php scripts/wp/install.php "$WP" "$KCT_WP_URL" --network
    local host=${KCT_WP_URL#http://}
    sed -i "s#// @MULTISITE@.*#define('MULTISITE', true); define('SUBDOMAIN_INSTALL', false); define('DOMAIN_CURRENT_SITE', '$host'); define('PATH_CURRENT_SITE', '/'); define('SITE_ID_CURRENT_SITE', 1); define('BLOG_ID_CURRENT_SITE', 1);#" "$WP/wp-config.php"
    php scripts/wp/install-network.php "$WP" "$KCT_WP_URL"
  else
    ln -sfn "$ROOT/php-bridge" "$WP/wp-content/plugins/kivicare-telemed-zoom"
    php scripts/wp/install.php "$WP" "$KCT_WP_URL"
  fi
}
PLUGIN="$ROOT/php-bridge"
PRELOAD_HEADER="$ROOT/php-bridge/lib/kct_runtime.preload.h"
# Another runtime library for the web servers (KCT_WASM_RUNTIME_LIB, the opt-in wasmtime one
# say): its own preload header, naming that library.
if [ -n "${KCT_WASM_RUNTIME_LIB:-}" ]; then
  mkdir -p "$RUN"
  php "$PLUGIN/preload.php" header > "$RUN/kct_runtime.preload.h"
  PRELOAD_HEADER="$RUN/kct_runtime.preload.h"
fi

start_fake_zoom() {
  if alive "$RUN/fake-zoom.pid"; then return 0; fi
  cargo build -q -p fake-zoom
  "$ROOT/target/debug/fake-zoom" --listen "127.0.0.1:$ZOOM_PORT" >"$RUN/fake-zoom.log" 2>&1 &
  echo $! > "$RUN/fake-zoom.pid"
  wait_for "the fake Zoom" "curl -fs '$KCT_ZOOM_URL/__admin/stats' >/dev/null 2>&1 || php -r 'exit(@file_get_contents(\"$KCT_ZOOM_URL/__admin/stats\") === false ? 1 : 0);'"
}

start_web() { # port, name
  local port=$1 name=$2
  if alive "$RUN/$name.pid"; then kill -- "-$(cat "$RUN/$name.pid")" 2>/dev/null || true; sleep 0.2; fi
  # The built-in server is not the `cli` SAPI, so FFI is reached as in production PHP-FPM:
  # ffi.enable=preload, the runtime registered by ffi.preload, and the bridge classes
  # preloaded by opcache (FFI's API answers only to preloaded code then).
  # Its own session, so that `down` stops the workers it forks along with it.
  local as_root=()
  [ "$(id -u)" = 0 ] && as_root=(-d opcache.preload_user=nobody)
  PHP_CLI_SERVER_WORKERS=4 setsid php -d ffi.enable=preload -d ffi.preload="$PRELOAD_HEADER" \
    -d opcache.enable=1 -d opcache.enable_cli=1 -d opcache.preload="$PLUGIN/preload.php" "${as_root[@]}" \
    -d display_errors=0 -d log_errors=1 -d error_log="$RUN/php-errors.log" \
    -S "127.0.0.1:$port" -t "$WP" "$ROOT/scripts/wp/router.php" >"$RUN/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
  wait_for "WordPress on :$port" "php -r 'exit(@file_get_contents(\"http://127.0.0.1:$port/wp-login.php\") === false ? 1 : 0);'"
}

up() {
  mkdir -p "$RUN"
  start_mariadb
  fresh_database
  start_fake_zoom
  install_wordpress
  start_web "$WP_PORT" php-server
  # A second web server on the same database (KCT_WEB_SERVERS=2): what two hosts behind a
  # load balancer share.
  if [ "${KCT_WEB_SERVERS:-1}" -ge 2 ]; then
    start_web "$((WP_PORT + 1))" php-server-2
    export KCT_WP_URL2="http://127.0.0.1:$((WP_PORT + 1))"
  fi
  echo "testbed ($ENV_NAME): WordPress $KCT_WP_URL (admin / admin-local-only), fake Zoom $KCT_ZOOM_URL"
}

down() {
  for w in php-server php-server-2; do
    if alive "$RUN/$w.pid"; then kill -- "-$(cat "$RUN/$w.pid")" 2>/dev/null || true; fi
  done
  for p in fake-zoom mysql/mysqld; do
    if alive "$RUN/$p.pid"; then kill "$(cat "$RUN/$p.pid")" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 50); do alive "$RUN/mysql/mysqld.pid" || break; sleep 0.1; done
  rm -f "$RUN/php-server.pid" "$RUN/php-server-2.pid" "$RUN/fake-zoom.pid"
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  run)
    shift 2
    trap down EXIT
    up
    "$@"
    ;;
  *) echo "usage: testbed.sh up|down|run ENV [CMD]" >&2; exit 2 ;;
esac
