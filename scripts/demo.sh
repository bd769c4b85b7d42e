#!/usr/bin/env bash
# `make demo`: everything up on http://127.0.0.1:8080 with the fake Zoom as Zoom, left running
# (`make down` stops it), and the main job shown end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/testbed.sh up demo
export KCT_WP_ROOT="$PWD/.run/demo/wordpress" KCT_WP_URL=http://127.0.0.1:8080 KCT_ZOOM_URL=http://127.0.0.1:9100
php scripts/wp/demo.php
cat <<TXT

The site keeps running: http://127.0.0.1:8080/wp-admin/  (login: admin / admin-local-only)
Fake Zoom: http://127.0.0.1:9100/__admin/stats      Stop everything: make down
TXT
