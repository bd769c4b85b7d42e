// Parity: every validation vector in tests/vectors/ through the browser build (pkg/) must
// give exactly the answer on record, which the Rust dispatch and the PHP path through the
// .wasm also give (tests/vectors.rs, php-bridge/tests/bridge/VectorReplayTest.php).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { initSync, validateAdminSettings, validateDoctorSettings, validatePolicy } from '../../pkg/kc_telemed.js';

initSync({ module: readFileSync(new URL('../../pkg/kc_telemed_bg.wasm', import.meta.url)) });

const browser = {
  'settings.validate_admin': validateAdminSettings,
  'settings.validate_doctor': validateDoctorSettings,
  'policy.validate': validatePolicy,
};
// tests/vectors/<op>/<case>.json (the validation cases use no fixtures).
const cases = Object.keys(browser).flatMap((op) => {
  const dir = new URL(`../vectors/${op}/`, import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => [`${op}/${f}`, { op, ...JSON.parse(readFileSync(new URL(f, dir), 'utf8')) }]);
});

test('there are validation vectors to compare', () => {
  assert.ok(cases.length >= 9, `only ${cases.length}`);
});

for (const [file, c] of cases) {
  test(`${file}: ${c.about}`, () => {
    let got;
    try {
      got = { ok: browser[c.op](c.input) };
    } catch (e) {
      got = { error: e };
    }
    assert.deepStrictEqual(JSON.parse(JSON.stringify(got)), c.expected);
  });
}
