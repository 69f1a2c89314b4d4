import { escapeHtml, page } from './views.ts';

/**
 * The pages of the device sign-in (RFC 8628) at /oidc/device: enter the code, confirm,
 * done. Every value goes through escapeHtml; no script.
 */

/** "just now", "2 minutes ago": how long ago the command-line sign-in started. */
export function agoInWords(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'less than a minute ago';
  return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
const errorLine = (error?: string) => (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '');

export function deviceInputPage(v: { action: string; xsrf: string; email: string; error?: string }): string {
  return page(
    'Sign in a device',
    `<h1>Sign in the command line</h1><p class="muted">Signed in as <strong>${escapeHtml(v.email)}</strong></p>` +
      errorLine(v.error) +
      `<form method="post" action="${escapeHtml(v.action)}">${hidden('xsrf', v.xsrf)}` +
      `<label for="user_code">Code shown in your terminal</label>` +
      `<input id="user_code" type="text" name="user_code" required maxlength="64" autocomplete="off" autocapitalize="characters" autofocus>` +
      `<button type="submit">Continue</button></form>`,
  );
}

/**
 * The confirm page's one script (under the response's nonce): the passkey button asks the
 * browser for an assertion with the page's options, puts it in the form and confirms.
 */
const PASSKEY_SCRIPT =
  "(function(){var b=document.getElementById('passkey'),f=b.form,out=document.getElementById('passkey-error');" +
  "var d=function(s){s=s.replace(/-/g,'+').replace(/_/g,'/');while(s.length%4)s+='=';return Uint8Array.from(atob(s),function(c){return c.charCodeAt(0)})};" +
  "var e=function(a){return btoa(String.fromCharCode.apply(null,new Uint8Array(a))).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'')};" +
  "b.addEventListener('click',function(){var o=JSON.parse(b.getAttribute('data-options'));o.challenge=d(o.challenge);" +
  "(o.allowCredentials||[]).forEach(function(c){c.id=d(c.id)});out.textContent='';" +
  "navigator.credentials.get({publicKey:o}).then(function(c){var r=c.response;" +
  "f.elements.webauthn.value=JSON.stringify({id:c.id,rawId:e(c.rawId),type:c.type,clientExtensionResults:c.getClientExtensionResults(),authenticatorAttachment:c.authenticatorAttachment||undefined," +
  "response:{clientDataJSON:e(r.clientDataJSON),authenticatorData:e(r.authenticatorData),signature:e(r.signature),userHandle:r.userHandle?e(r.userHandle):undefined}});" +
  "var s=f.elements.second_factor;if(s)s.required=false;f.requestSubmit(document.getElementById('confirm'))})" +
  "['catch'](function(x){out.textContent='The passkey did not work ('+x.name+'). Try again, or type a code.'})})})();";

export function deviceConfirmPage(v: {
  action: string;
  xsrf: string;
  userCode: string;
  clientName: string;
  email: string;
  startedAgo: string;
  needsFactor: boolean;
  /** The user has a passkey: its WebAuthn options and the response's script nonce. */
  passkey?: { options: unknown; nonce: string };
  error?: string;
}): string {
  const factor = v.needsFactor
    ? `<label for="second_factor">Code from your authenticator app, or a recovery code</label>` +
      `<input id="second_factor" type="password" name="second_factor" required maxlength="64" autocomplete="one-time-code" inputmode="text"${v.passkey ? '' : ' autofocus'}>`
    : '';
  const passkey = v.passkey
    ? `<input type="hidden" name="webauthn" value="">` +
      `<p><button type="button" id="passkey" class="secondary" data-options="${escapeHtml(JSON.stringify(v.passkey.options))}"${' autofocus'}>Use a passkey instead</button></p>` +
      `<p id="passkey-error" class="muted" role="status"></p>`
    : '';
  return page(
    'Confirm the sign-in',
    `<h1>Sign in the ${escapeHtml(v.clientName)}?</h1>` +
      `<p class="error" role="alert"><strong>Only continue if you started this sign-in on your own computer just now.</strong> ` +
      `Someone who sent you this code or link could otherwise act as you from their terminal.</p>` +
      `<p>Code: <strong>${escapeHtml(v.userCode)}</strong><br>Started ${escapeHtml(v.startedAgo)}<br>As <strong>${escapeHtml(v.email)}</strong></p>` +
      errorLine(v.error) +
      `<form method="post" action="${escapeHtml(v.action)}">${hidden('xsrf', v.xsrf)}${hidden('user_code', v.userCode)}${factor}${passkey}` +
      `<button type="submit" id="confirm" name="confirm" value="yes"${v.needsFactor ? '' : ' autofocus'}>Yes, sign in</button>` +
      `<button type="submit" name="abort" value="yes" class="secondary" formnovalidate>No, cancel</button></form>` +
      (v.passkey ? `<script nonce="${escapeHtml(v.passkey.nonce)}">${PASSKEY_SCRIPT}</script>` : ''),
  );
}

/** Not signed in to the portal in this browser: sign in there, then come back here (the portal's /device page returns, with the code). */
export function deviceSignInFirstPage(baseUrl: string, userCode?: string): string {
  const back = `${baseUrl}/device${userCode ? `?user_code=${encodeURIComponent(userCode)}` : ''}`;
  return page(
    'Sign in first',
    `<h1>Sign in to Interim first</h1><p>To sign in the command line, sign in to Interim in this browser first; you come back here afterwards to confirm.</p>` +
      `<p><a href="${escapeHtml(back)}">Sign in to Interim</a></p>`,
  );
}

export function deviceDonePage(clientName: string): string {
  return page('Signed in', `<h1>Done</h1><p><strong>${escapeHtml(clientName)}</strong> is signed in. You can close this page and return to your terminal.</p>`);
}
