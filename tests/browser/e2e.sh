#!/usr/bin/env bash
# Runs the browser end-to-end test inside the test bed: makes a doctor with a password
# (Chromium logs in through the real login form), then drives Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KCT_E2E_DOCTOR="e2e_doctor_$$" KCT_E2E_DOCTOR_PASSWORD="e2e-$(head -c 12 /dev/urandom | base64 | tr -dc A-Za-z0-9)"
php -r '
  $u = parse_url(getenv("KCT_WP_URL")); $_SERVER["HTTP_HOST"] = $u["host"] . ":" . $u["port"];
  define("WP_USE_THEMES", false); require getenv("KCT_WP_ROOT") . "/wp-load.php";
  $id = wp_insert_user(["user_login" => getenv("KCT_E2E_DOCTOR"), "user_email" => getenv("KCT_E2E_DOCTOR") . "@example.org",
    "user_pass" => getenv("KCT_E2E_DOCTOR_PASSWORD"), "role" => "kiviCare_doctor"]);
  if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
  // Both have opened KiviCare'"'"'s dashboard: its kivicare/v* answers to them are encrypted now.
  foreach ([$id, get_user_by("login", "admin")->ID] as $u) { update_user_meta($u, "client_public_key", "e2e-public-key"); }'
node tests/browser/e2e.mjs
