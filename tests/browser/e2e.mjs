// End to end in Debian's Chromium (driven by playwright-core) against the test bed's real
// WordPress and the fake Zoom: the admin's settings page validates as the user types (the
// core in the browser), saves, never shows the secret again; a doctor's page tests the
// connection against the fake Zoom. Screenshots go to build/artifacts/.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const WP = process.env.KCT_WP_URL;
const ZOOM = process.env.KCT_ZOOM_URL;
const out = new URL('../../build/artifacts/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

async function zoom(what, body) {
  const r = await fetch(`${ZOOM}/__admin/${what}`, { method: 'POST', body: JSON.stringify(body) });
  return r.json();
}

async function login(page, user, password) {
  await page.goto(`${WP}/wp-login.php`);
  await page.fill('#user_login', user);
  await page.fill('#user_pass', password);
  await Promise.all([page.waitForNavigation(), page.click('#wp-submit')]);
}

const errorFor = (page, field) => page.locator(`.kct-error[data-for="${field}"]`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  await zoom('reset', {});
  // The clinic's Server-to-Server app at Zoom (a save asks it for a token).
  const doctor = process.env.KCT_E2E_DOCTOR;
  await zoom('s2s', { client_id: 'kctS2sClient001', client_secret: 'kctS2sSecret0123456789', account_id: 'kctAccount0001',
    users: [{ id: 'kctE2eHost0001', email: `${doctor}@example.org` }] });
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // The clinic's settings page, as the administrator.
  await login(page, 'admin', 'admin-local-only');
  await page.goto(`${WP}/wp-admin/options-general.php?page=kct-zoom-settings`);
  await page.waitForFunction(() => document.getElementById('kct-core-version')?.textContent.includes('Zoom core'));
  await page.selectOption('#kct-auth_type', 'server-to-server');
  await page.fill('#kct-client_id', 'x');
  assert.match(await errorFor(page, 'client_id').textContent(), /client id must be 10 to 64/);
  assert.match(await errorFor(page, 'account_id').textContent(), /account id/);
  await page.fill('#kct-client_id', 'kctS2sClient001');
  await page.fill('#kct-account_id', 'kctAccount0001');
  assert.equal(await errorFor(page, 'client_id').textContent(), '', 'a valid value clears its message');
  await page.fill('#kct-client_secret', 'short');
  assert.match(await errorFor(page, 'client_secret').textContent(), /client secret must be 16 to 128/);
  await page.fill('#kct-client_secret', 'kctS2sSecret0123456789');
  // The uninstall opt-in was settable only through the REST route: it is on the page now.
  assert.equal(await page.isChecked('#kct-delete_data_on_uninstall'), false, 'off unless the owner opts in');
  await page.check('#kct-delete_data_on_uninstall');
  assert.match(await page.locator('#kct-preview').textContent(), /"waiting_room": true/);
  // Found by review: the preview was drawn once, from the stored policy and the mode the page
  // opened with. It follows the form now: the mode names the host, the policy the settings.
  assert.match(await page.locator('#kct-preview').textContent(), /users\/doctor@clinic\.example\/meetings/);
  assert.match(await page.locator('#kct-preview').textContent(), /"approval_type": 2/);
  await page.check('#kct-register_patient');
  assert.match(await page.locator('#kct-preview').textContent(), /"approval_type": 0/);
  await page.uncheck('#kct-register_patient');
  assert.match(await page.locator('#kct-preview').textContent(), /"approval_type": 2/);
  // Found by review: nothing said how to set up the Zoom app (its kind, scopes, events). The
  // page says it for the chosen mode, from the core's own list of calls and events.
  const setupText = () => page.locator('#kct-app-setup').textContent();
  assert.match(await setupText(), /Server-to-Server OAuth app/);
  assert.match(await setupText(), /meeting:write:meeting:admin/);
  assert.match(await setupText(), /meeting\.participant_joined/);
  assert.doesNotMatch(await setupText(), /app_deauthorized|registrant/, 'no deauthorization for Server-to-Server; no registrants yet');
  await page.check('#kct-register_patient');
  assert.match(await setupText(), /meeting:write:registrant:admin/);
  await page.uncheck('#kct-register_patient');
  await page.selectOption('#kct-auth_type', 'oauth');
  assert.match(await setupText(), /General app/);
  assert.match(await setupText(), /settings\/zoom-telemed\/callback/);
  assert.match(await setupText(), /app_deauthorized/);
  assert.doesNotMatch(await setupText(), /:admin/);
  await page.selectOption('#kct-auth_type', 'server-to-server');
  // Only the chosen mode's fields: the OAuth redirect URL is not a Server-to-Server setting.
  assert.equal(await page.isVisible('#kct-account_id'), true);
  assert.equal(await page.isVisible('#kct-redirect_url'), false, 'no redirect URL for a Server-to-Server app');
  // Found by review: the meeting policy (waiting room, recording, passcode...) could be set
  // only through the REST route. The page shows the policy in effect, checked as it is typed.
  assert.equal(await page.isChecked('#kct-waiting_room'), true, 'the safe default is shown');
  assert.equal(await page.inputValue('#kct-auto_recording'), 'none');
  assert.equal(await page.inputValue('#kct-passcode_length'), '10');
  await page.check('#kct-join_before_host');
  assert.match(await errorFor(page, 'join_before_host').textContent(), /join before host cannot be on while the waiting room is on/);
  await page.uncheck('#kct-waiting_room');
  assert.equal(await errorFor(page, 'join_before_host').textContent(), '');
  await page.selectOption('#kct-encryption_type', 'e2ee');
  await page.selectOption('#kct-auto_recording', 'cloud');
  assert.match(await errorFor(page, 'auto_recording').textContent(), /cloud recording is not available with end-to-end encryption/);
  await page.selectOption('#kct-encryption_type', 'enhanced_encryption');
  assert.equal(await errorFor(page, 'auto_recording').textContent(), '');
  await page.fill('#kct-passcode_length', '');
  assert.match(await errorFor(page, 'passcode_length').textContent(), /between 6 and 10/, 'an emptied number is named, not defaulted');
  await page.fill('#kct-passcode_length', '6');
  await page.selectOption('#kct-passcode_alphabet', 'numeric');
  const preview = await page.locator('#kct-preview').textContent();
  assert.match(preview, /"waiting_room": false/);
  assert.match(preview, /"join_before_host": true/);
  assert.match(preview, /"auto_recording": "cloud"/);
  await page.click('#kct-save');
  await page.waitForFunction(() => document.getElementById('kct-status')?.textContent.length > 0);
  assert.equal(await page.locator('#kct-status').textContent(), 'Zoom settings saved.');
  // What the server keeps: only what differs from the core's defaults.
  const storedPolicy = () => page.evaluate(async () => {
    const r = await fetch(window.kctZoom.rest, { headers: { 'X-WP-Nonce': window.kctZoom.nonce } });
    return (await r.json()).data.policy;
  });
  assert.deepEqual(await storedPolicy(), { waiting_room: false, join_before_host: true, auto_recording: 'cloud',
    passcode_length: 6, passcode_alphabet: 'numeric' });
  await page.reload();
  await page.waitForFunction(() => document.getElementById('kct-core-version')?.textContent.includes('Zoom core'));
  assert.equal(await page.isChecked('#kct-waiting_room'), false, 'the policy was kept');
  assert.equal(await page.isChecked('#kct-join_before_host'), true);
  assert.equal(await page.inputValue('#kct-auto_recording'), 'cloud');
  assert.equal(await page.inputValue('#kct-passcode_length'), '6');
  // Back to the defaults: nothing of the policy is stored, so it follows the core's defaults.
  await page.check('#kct-waiting_room');
  await page.uncheck('#kct-join_before_host');
  await page.selectOption('#kct-auto_recording', 'none');
  await page.fill('#kct-passcode_length', '10');
  await page.selectOption('#kct-passcode_alphabet', 'alphanumeric');
  await page.evaluate(() => { document.getElementById('kct-status').textContent = ''; });
  await page.click('#kct-save');
  await page.waitForFunction(() => document.getElementById('kct-status')?.textContent.length > 0);
  assert.equal(await page.locator('#kct-status').textContent(), 'Zoom settings saved.');
  assert.deepEqual(await storedPolicy(), {});
  // An app Zoom grants fewer scopes than the calls need: saved, and said, on save and on load.
  const s2sApp = { client_id: 'kctS2sClient001', client_secret: 'kctS2sSecret0123456789', account_id: 'kctAccount0001',
    users: [{ id: 'kctE2eHost0001', email: `${doctor}@example.org` }] };
  await zoom('s2s', { ...s2sApp, scopes: 'meeting:write:admin user:read:user:admin' });
  await page.evaluate(() => { document.getElementById('kct-status').textContent = ''; });
  await page.click('#kct-save');
  await page.waitForFunction(() => document.getElementById('kct-status')?.textContent.length > 0);
  assert.match(await page.locator('#kct-status').textContent(), /saved\. The Zoom app lacks these scopes.*meeting:read:list_meetings:admin/);
  assert.equal(await page.getAttribute('#kct-status', 'class'), 'kct-bad');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('kct-status')?.textContent.length > 0);
  assert.match(await page.locator('#kct-status').textContent(), /lacks these scopes/, 'said again when the page opens');
  await zoom('s2s', s2sApp);
  await page.click('#kct-save');
  await page.waitForFunction(() => document.getElementById('kct-status')?.textContent === 'Zoom settings saved.');
  assert.equal(await page.getAttribute('#kct-status', 'class'), 'kct-ok');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('kct-core-version')?.textContent.includes('Zoom core'));
  assert.equal(await page.locator('#kct-status').textContent(), '', 'nothing to say once the app has every scope');
  assert.equal(await page.inputValue('#kct-client_secret'), '', 'the secret is never sent back');
  assert.match(await page.getAttribute('#kct-client_secret', 'placeholder'), /stored/);
  assert.equal(await page.isChecked('#kct-delete_data_on_uninstall'), true, 'the opt-in was saved');
  // Another app's client id: the stored secret is the previous app's, as the server says too.
  await page.fill('#kct-client_id', 'kctS2sClient002');
  assert.match(await errorFor(page, 'client_secret').textContent(), /client id changed/);
  await page.fill('#kct-client_id', 'kctS2sClient001');
  assert.equal(await errorFor(page, 'client_secret').textContent(), '', 'its own app keeps the stored secret');
  await page.screenshot({ path: `${out}admin-settings.png`, fullPage: true });
  // Found by review: an answer that was not JSON (a PHP error page) made the save throw, and
  // the page said nothing at all. It says what happened now, and the form is left as it was.
  const settingsRoute = (url) => decodeURIComponent(url.href).endsWith('kct-zoom/v1/settings/zoom-telemed');
  await page.route(settingsRoute, (route) => route.fulfill({ status: 500, contentType: 'text/html',
    body: '<html><body>There has been a critical error on this website.</body></html>' }));
  await page.evaluate(() => { document.getElementById('kct-status').textContent = ''; });
  await page.click('#kct-save');
  await page.waitForFunction(() => document.getElementById('kct-status')?.textContent.length > 0);
  assert.match(await page.locator('#kct-status').textContent(), /answered with an error \(HTTP 500\)/);
  assert.equal(await page.getAttribute('#kct-status', 'class'), 'kct-bad');
  await page.unroute(settingsRoute);

  // A doctor hosted by the clinic's Server-to-Server app tests the connection.
  const doc = await browser.newPage();
  doc.on('pageerror', (e) => consoleErrors.push(String(e)));
  await login(doc, doctor, process.env.KCT_E2E_DOCTOR_PASSWORD);
  await doc.goto(`${WP}/wp-admin/admin.php?page=kct-zoom-doctor`);
  await doc.waitForFunction(() => document.getElementById('kct-connection')?.textContent.length > 0);
  assert.match(await doc.locator('#kct-connection').textContent(), /Server-to-Server/);
  assert.match(await doc.locator('#kct-connection').textContent(), new RegExp(`hosted by the Zoom user ${doctor}@example\\.org`), 'which Zoom user hosts them');
  // Found in a screenshot: WordPress's .button rule showed buttons marked `hidden`.
  assert.equal(await doc.isVisible('#kct-connect'), false, 'no OAuth connect button for a Server-to-Server doctor');
  assert.equal(await doc.isVisible('#kct-disconnect'), false);
  // The own app's fields show only while it is on.
  assert.equal(await doc.isVisible('#kct-account_id'), false, 'no own-app fields until the doctor turns it on');
  assert.equal(await doc.isVisible('#kct-waiting_mail'), true, 'the mail preference is not part of the own app');
  await doc.check('#kct-enable');
  assert.equal(await doc.isVisible('#kct-account_id'), true);
  await doc.fill('#kct-zoom_user', 'me');
  assert.match(await errorFor(doc, 'zoom_user').textContent(), /email address or a Zoom user id/);
  await doc.fill('#kct-zoom_user', '');
  await doc.uncheck('#kct-enable');
  assert.equal(await doc.isVisible('#kct-zoom_user'), false);
  await doc.click('#kct-test');
  await doc.waitForFunction(() => document.getElementById('kct-status')?.textContent.length > 0);
  assert.equal(await doc.locator('#kct-status').textContent(), `Connected to Zoom as ${doctor}@example.org.`);
  await doc.screenshot({ path: `${out}doctor-settings.png`, fullPage: true });
  assert.deepEqual(consoleErrors, [], 'no script errors');
  console.log('e2e: 1 passed, 0 failed');
} catch (e) {
  failed = true;
  console.error(e);
  console.log('e2e: 0 passed, 1 failed');
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
