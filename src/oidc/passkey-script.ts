import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The script behind the passkey buttons of the sign-in pages (views.ts passkeyForm):
 * @simplewebauthn/browser's own bundle (the global SimpleWebAuthnBrowser) followed by the
 * few lines that use it. Served as one static file, so the pages keep a CSP without
 * inline script. Plain ES2017, no build step.
 */
const BUTTON_SCRIPT = `
(function () {
  var form = document.getElementById('passkey-form');
  var button = document.getElementById('passkey-button');
  var status = document.getElementById('passkey-status');
  if (!form || !button || !status) return;
  var browser = window.SimpleWebAuthnBrowser;
  if (!browser || !browser.browserSupportsWebAuthn()) {
    button.disabled = true;
    status.textContent = 'This browser cannot use passkeys here.';
    return;
  }
  button.addEventListener('click', async function () {
    button.disabled = true;
    status.textContent = 'Follow your browser\\u2019s prompt to use your passkey.';
    try {
      var optionsJSON = JSON.parse(form.getAttribute('data-options'));
      var response = await browser.startAuthentication({ optionsJSON: optionsJSON });
      form.elements.namedItem('webauthn').value = JSON.stringify(response);
      form.submit();
    } catch (error) {
      button.disabled = false;
      status.textContent = 'The passkey was not used. Try again' + (document.getElementById('code') ? ', or enter a code.' : '.');
    }
  });
})();
`;

function simpleWebAuthnBundle(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@simplewebauthn/browser');
  // The package's UMD bundle sits in dist/bundle next to its other builds.
  let dir = dirname(entry);
  while (!dir.endsWith('browser') && dirname(dir) !== dir) dir = dirname(dir);
  return readFileSync(join(dir, 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

let script: string | undefined;
/** The file's text, read once. */
export function passkeyScript(): string {
  script ??= `${simpleWebAuthnBundle()}\n${BUTTON_SCRIPT}`;
  return script;
}
