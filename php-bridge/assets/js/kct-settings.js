// The Zoom settings screens. Validation runs in the core's browser build (pkg/): the same
// Rust the server runs on save, so the messages are the same. Secrets are never sent back
// to this page: an empty secret field means "keep the stored one".
// Strings go through wp.i18n (translations from languages/, wp_set_script_translations).
const { __, sprintf } = window.wp.i18n;
const cfg = window.kctZoom;
const core = await import(cfg.pkg + 'kc_telemed.js');
await core.default({ module_or_path: cfg.pkg + 'kc_telemed_bg.wasm' });

const $ = (id) => document.getElementById(id);
const form = $('kct-form');
const status = $('kct-status');
const value = (name) => (form.elements[name] ? form.elements[name].value : '');

// Whether the status line holds errors show() put there (cleared once they are gone).
let inStatus = false;

/**
 * Each error beside its field; one whose field is not on the page, or hidden (a setting
 * made through the REST route, a field of another mode), in the status line instead.
 */
function show(errors) {
  form.querySelectorAll('.kct-error').forEach((p) => { p.textContent = ''; });
  form.querySelectorAll('.kct-invalid').forEach((i) => i.classList.remove('kct-invalid'));
  const elsewhere = [];
  for (const e of errors) {
    // `alternative_hosts[1]` is reported at its list.
    const field = String(e.field ?? '').replace(/\[\d+\]$/, '');
    const p = form.querySelector(`.kct-error[data-for="${field}"]`);
    if (!p || p.offsetParent === null) {
      elsewhere.push(e.message);
    } else if (!p.textContent) {
      p.textContent = e.message;
      form.elements[field]?.classList.add('kct-invalid');
    }
  }
  if (elsewhere.length) say(elsewhere.join(' '), false);
  else if (inStatus) say('', true);
  inStatus = elsewhere.length > 0;
}

function say(text, ok) {
  status.textContent = text;
  status.className = ok ? 'kct-ok' : 'kct-bad';
}

/**
 * The route's envelope `{status, message, data}`. An answer that is not JSON (a PHP error
 * page, a proxy's) or no answer at all comes back as a failed envelope that says so: the
 * page always tells the user what happened, instead of failing silently.
 */
async function rest(method, path = '', body = undefined) {
  let r = null;
  try {
    r = await fetch(cfg.rest + path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-WP-Nonce': cfg.nonce },
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return await r.json();
  } catch {
    const message = r
      ? sprintf(/* translators: %d: the HTTP status code */ __('The site answered with an error (HTTP %d). Please try again; if it happens again, an administrator finds the cause under Tools → Site Health.', 'kivicare-telemed-zoom'), r.status)
      : __('The site could not be reached. Check the connection and try again.', 'kivicare-telemed-zoom');
    return { status: false, message, data: null };
  }
}

function placeholders(data) {
  for (const [name, set] of [['client_secret', data.client_secret_set], ['webhook_secret', data.webhook_secret_set]]) {
    if (form.elements[name]) {
      form.elements[name].value = '';
      form.elements[name].placeholder = set ? __('stored — leave empty to keep', 'kivicare-telemed-zoom') : '';
    }
  }
}

/** PUT the form to the server; its answer shows in the same places as the browser's checks. */
async function save(path, body, onSaved) {
  const r = await rest('PUT', path, body);
  if (r.status) {
    onSaved(r.data);
    placeholders(r.data);
  } else if (r.data?.errors) {
    show(r.data.errors);
  }
  // Saved, with what Zoom said of the app (missing scopes): shown as a problem.
  say(r.message, r.status && !r.data?.app_check);
}

$('kct-core-version')?.append(sprintf(/* translators: %s: the core's version */ __('Validation by the Zoom core %s', 'kivicare-telemed-zoom'), core.coreVersion()));

if (cfg.view === 'admin') {
  const d = cfg.data;
  for (const k of ['auth_type', 'client_id', 'account_id', 'redirect_url']) form.elements[k].value = d[k] ?? '';
  form.elements.check_in_from_zoom.checked = Boolean(d.check_in_from_zoom);
  form.elements.delete_data_on_uninstall.checked = Boolean(d.delete_data_on_uninstall);
  placeholders(d);
  if (d.app_check) say(d.app_check, false);

  // The meeting policy's fields and how each reads. The form shows the policy in effect
  // (the stored layer over the core's defaults) and saves only what differs from the
  // defaults, so a clinic that changed nothing follows the core's safe defaults as they
  // improve; settings the form has no field for (set through the REST route) are kept.
  const POLICY = {
    waiting_room: 'flag', join_before_host: 'flag', jbh_time: 'number', mute_upon_entry: 'flag',
    host_video: 'flag', participant_video: 'flag', auto_recording: 'text', encryption_type: 'text',
    audio: 'text', meeting_authentication: 'flag', passcode_length: 'number', passcode_alphabet: 'text',
    max_duration: 'number', topic_template: 'text', register_patient: 'flag',
  };
  const defaults = core.effectivePolicy({});
  const fillPolicy = (layer) => {
    let p = defaults;
    try {
      p = core.effectivePolicy(layer || {});
    } catch (e) {
      say(e.message ?? String(e), false);
    }
    for (const [k, kind] of Object.entries(POLICY)) {
      if (kind === 'flag') form.elements[k].checked = Boolean(p[k]);
      else form.elements[k].value = String(p[k] ?? '');
    }
  };
  fillPolicy(d.policy);
  const read = (k) => {
    const el = form.elements[k];
    if (POLICY[k] === 'flag') return el.checked;
    // An emptied number is 0, out of every range, so the core names the field and its range
    // (leaving it out would take the default silently).
    if (POLICY[k] === 'number') return el.value.trim() === '' ? 0 : Number(el.value);
    return el.value;
  };
  // The policy as the form would save it.
  const policy = () => {
    const layer = { ...(cfg.data.policy || {}) };
    for (const k of Object.keys(POLICY)) {
      const v = read(k);
      if (v === defaults[k]) delete layer[k];
      else layer[k] = v;
    }
    return layer;
  };

  // Only the fields of the chosen mode.
  const MODES = { client_id: ['oauth', 'server-to-server'], client_secret: ['oauth', 'server-to-server'],
    account_id: ['server-to-server'], redirect_url: ['oauth'], webhook_secret: ['oauth', 'server-to-server'] };
  const showMode = () => {
    for (const [k, modes] of Object.entries(MODES)) $(`kct-row-${k}`).style.display = modes.includes(value('auth_type')) ? '' : 'none';
  };
  showMode();
  // On `input`, which comes before the form's checks: they find the fields of the new mode.
  form.elements.auth_type.addEventListener('input', showMode);

  // How to set up the Zoom app for the chosen mode: the kind of app, its scopes and events
  // come from the core (the calls it makes and the events it acts on).
  const appSetup = () => {
    const list = $('kct-app-setup');
    list.replaceChildren();
    const mode = value('auth_type');
    $('kct-row-app_setup').style.display = mode === 'none' ? 'none' : '';
    if (mode === 'none') return;
    const setup = core.zoomAppSetup({ auth_type: mode, register_patient: form.elements.register_patient.checked });
    const step = (text, code) => {
      const li = document.createElement('li');
      li.append(text);
      if (code) {
        const c = document.createElement('code');
        c.textContent = code;
        li.append(' ', c);
      }
      list.append(li);
    };
    if (setup.app_type === 'general') {
      step(__('In the Zoom App Marketplace (Develop → Build App), create a General app, user-managed.', 'kivicare-telemed-zoom'));
      step(__('Under OAuth, enter this redirect URL, and add it to the OAuth allow list:', 'kivicare-telemed-zoom'), d.expected_redirect_url);
      step(__('Copy the app\'s Client ID and Client secret into the fields below.', 'kivicare-telemed-zoom'));
    } else {
      step(__('In the Zoom App Marketplace (Develop → Build App), create a Server-to-Server OAuth app.', 'kivicare-telemed-zoom'));
      step(__('Copy the app\'s Account ID, Client ID and Client secret into the fields below.', 'kivicare-telemed-zoom'));
    }
    step(__('Add these scopes:', 'kivicare-telemed-zoom'), setup.scopes.join(' '));
    step(__('Under Event subscriptions, add this endpoint URL:', 'kivicare-telemed-zoom'), d.webhook_url);
    step(__('Subscribe it to these events:', 'kivicare-telemed-zoom'), setup.events.join(' '));
    step(__('Copy the subscription\'s Secret Token into "Webhook secret token" below, save here, then validate the endpoint in Zoom.', 'kivicare-telemed-zoom'));
    if (setup.app_type !== 'general') step(__('Activate the app.', 'kivicare-telemed-zoom'));
  };
  appSetup();

  const settings = () => ({
    auth_type: value('auth_type'),
    client_id: value('client_id').trim(),
    client_secret: value('client_secret'),
    client_secret_stored: Boolean(cfg.data.client_secret_set),
    stored_client_id: cfg.data.client_id ?? '',
    account_id: value('account_id').trim(),
    redirect_url: value('redirect_url'),
    expected_redirect_url: value('auth_type') === 'oauth' ? d.expected_redirect_url : '',
    webhook_secret: value('webhook_secret'),
    webhook_secret_stored: Boolean(cfg.data.webhook_secret_set),
  });
  const check = () => {
    let report = core.validateAdminSettings(settings());
    try {
      const p = core.validatePolicy(policy());
      report = { valid: report.valid && p.valid, errors: [...report.errors, ...p.errors] };
    } catch (e) {
      // A field of the wrong type (an empty number): thrown, with the field named.
      report = { valid: false, errors: [...report.errors, e] };
    }
    show(report.errors);
    return report.valid;
  };
  const preview = () => {
    try {
      const p = core.previewCreateMeeting({
        host: value('auth_type') === 'server-to-server' ? 'doctor@clinic.example' : 'me',
        appointment: { id: 1, start_unix: Math.floor(Date.now() / 1000) + 86400, duration_min: 30,
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', correlation_ref: 'kc-preview0000000000' },
        policy: policy(),
      });
      $('kct-preview').textContent = `${p.method} ${p.url}\n${JSON.stringify(p.body, null, 2)}`;
    } catch (e) {
      $('kct-preview').textContent = e.message ?? String(e);
    }
  };
  form.addEventListener('input', check);
  // The preview follows the form (the mode names the host, the policy the meeting's settings).
  form.addEventListener('change', () => { check(); preview(); appSetup(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!check()) {
      // Errors shown in the status line (no field of theirs on the page) stay there.
      if (!status.textContent) say(__('Please fix the fields marked above.', 'kivicare-telemed-zoom'), false);
      return;
    }
    const s = settings();
    const body = { auth_type: s.auth_type, client_id: s.client_id, account_id: s.account_id, redirect_url: s.redirect_url,
      check_in_from_zoom: form.elements.check_in_from_zoom.checked, policy: policy(),
      delete_data_on_uninstall: form.elements.delete_data_on_uninstall.checked };
    if (s.client_secret) body.client_secret = s.client_secret;
    if (s.webhook_secret) body.webhook_secret = s.webhook_secret;
    await save('', body, (data) => {
      cfg.data = data;
      fillPolicy(data.policy);
    });
  });
  preview();
}

if (cfg.view === 'doctor') {
  const d = cfg.data;
  const connection = $('kct-connection');
  const showConnection = (v) => {
    const text = {
      connected: __('Zoom is connected.', 'kivicare-telemed-zoom'), server_to_server: __('Your meetings are hosted through a Server-to-Server app.', 'kivicare-telemed-zoom'),
      not_connected: __('Zoom is not connected.', 'kivicare-telemed-zoom'), disconnected: __('Zoom is disconnected.', 'kivicare-telemed-zoom'),
      reconnect_required: __('Zoom must be connected again.', 'kivicare-telemed-zoom'), deauthorized: __('The Zoom app was removed: connect again.', 'kivicare-telemed-zoom'),
    }[v.connection_status] ?? v.connection_status;
    // Under a Server-to-Server app, which Zoom user hosts the doctor's meetings.
    connection.textContent = v.connection_status === 'server_to_server' && v.zoom_user
      ? sprintf(/* translators: %s: a Zoom user's email or id */ __('Your meetings are hosted by the Zoom user %s through a Server-to-Server app.', 'kivicare-telemed-zoom'), v.zoom_user)
      : text;
    connection.className = 'kct-connection ' + (v.is_connected ? 'kct-ok' : 'kct-bad');
    // style, not the `hidden` attribute: WordPress's .button rule would override it.
    $('kct-connect').style.display = v.is_connected || d.clinic_auth_type !== 'oauth' ? 'none' : '';
    $('kct-disconnect').style.display = v.connection_status !== 'connected' ? 'none' : '';
  };
  showConnection(d);
  for (const k of ['account_id', 'client_id', 'zoom_user']) form.elements[k].value = d[k] ?? '';
  form.elements.enable_server_to_server.checked = d.auth_type === 'server-to-server';
  form.elements.waiting_mail.checked = Boolean(d.waiting_mail);
  placeholders(d);
  // The own app's fields only while it is on.
  const showOwnApp = () => {
    for (const k of ['account_id', 'client_id', 'client_secret', 'zoom_user']) {
      $(`kct-row-${k}`).style.display = form.elements.enable_server_to_server.checked ? '' : 'none';
    }
  };
  showOwnApp();
  form.elements.enable_server_to_server.addEventListener('input', showOwnApp);
  const settings = () => ({
    auth_type: form.elements.enable_server_to_server.checked ? 'server-to-server' : 'none',
    account_id: value('account_id').trim(),
    client_id: value('client_id').trim(),
    client_secret: value('client_secret'),
    client_secret_stored: Boolean(cfg.data.client_secret_set),
    stored_client_id: cfg.data.client_id ?? '',
    zoom_user: value('zoom_user').trim(),
  });
  const check = () => {
    const report = core.validateDoctorSettings(settings());
    show(report.errors);
    return report.valid;
  };
  form.addEventListener('input', check);
  form.addEventListener('change', check);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!check()) return say(__('Please fix the fields marked above.', 'kivicare-telemed-zoom'), false);
    const s = settings();
    const body = { auth_type: s.auth_type, account_id: s.account_id, client_id: s.client_id,
      waiting_mail: form.elements.waiting_mail.checked };
    // Only for the doctor's own app: under the clinic's app an administrator assigns it.
    if (s.auth_type === 'server-to-server') body.zoom_user = s.zoom_user;
    if (s.client_secret) body.client_secret = s.client_secret;
    await save('/doctor-config', body, (data) => {
      cfg.data = { ...cfg.data, ...data };
      showConnection(data);
    });
  });
  $('kct-connect').addEventListener('click', async () => {
    const r = await rest('GET', '/authorize');
    if (r.status) window.location.assign(r.data.redirect_url);
    else say(r.message, false);
  });
  $('kct-test').addEventListener('click', async () => {
    const r = await rest('PUT', '/test-connection', {});
    say(r.message, Boolean(r.data?.success));
  });
  $('kct-disconnect').addEventListener('click', async () => {
    const r = await rest('GET', '/disconnect');
    say(r.message, r.status);
    // Only what the server did: a request that failed leaves the connection as it was shown.
    if (r.status) showConnection({ ...cfg.data, connection_status: r.data?.connection_status ?? 'disconnected', is_connected: false });
  });
}
