#!/usr/bin/env bash
# languages/kivicare-telemed-zoom.pot from the plugin's PHP and the screens' JavaScript
# (Debian's gettext). --check fails when the committed file is stale (make test).
set -euo pipefail
cd "$(dirname "$0")/../php-bridge"
DOMAIN=kivicare-telemed-zoom
POT=languages/$DOMAIN.pot
VERSION=$(sed -n "s/^ \* Version: *//p" kivicare-telemed-zoom.php)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# WordPress's gettext functions; file names without line numbers, so moving code does not
# make the catalogue stale, only a changed or new string does.
common=(--from-code=UTF-8 --add-location=file --sort-by-file --add-comments=translators:
  --package-name="KiviCare Telemed – Zoom" --package-version="$VERSION" --msgid-bugs-address="$(sed -n "s/^ \* Plugin URI: *//p" kivicare-telemed-zoom.php)" --copyright-holder="KCT contributors"
  --keyword --keyword=__:1 --keyword=_e:1 --keyword=_x:1,2c --keyword=_ex:1,2c
  --keyword=_n:1,2 --keyword=_nx:1,2,4c --keyword=_n_noop:1,2 --keyword=esc_html__:1
  --keyword=esc_html_e:1 --keyword=esc_attr__:1 --keyword=esc_attr_e:1 --keyword=esc_html_x:1,2c
  --keyword=esc_attr_x:1,2c)
find app kivicare-telemed-zoom.php -name '*.php' | LC_ALL=C sort \
  | xgettext "${common[@]}" --language=PHP --files-from=- -o "$out"
xgettext "${common[@]}" --language=JavaScript --join-existing -o "$out" assets/js/kct-settings.js
# A catalogue for translators: no creation date (it would make every run differ), UTF-8.
sed -i -e '/^"POT-Creation-Date:/d' -e 's/charset=CHARSET/charset=UTF-8/' "$out"

if [ "${1:-}" = --check ]; then
  if ! diff -q "$out" "$POT" >/dev/null 2>&1; then
    diff -u "$POT" "$out" | head -30 || true
    echo "$POT is stale: run scripts/make-pot.sh and commit it" >&2
    exit 1
  fi
  echo "$POT: up to date ($(grep -c '^msgid "' "$POT") strings)"
else
  cp "$out" "$POT"
  echo "wrote $POT ($(grep -c '^msgid "' "$POT") strings)"
fi
