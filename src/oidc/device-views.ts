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

export function deviceConfirmPage(v: {
  action: string;
  xsrf: string;
  userCode: string;
  clientName: string;
  email: string;
  startedAgo: string;
  needsFactor: boolean;
  error?: string;
}): string {
  const factor = v.needsFactor
    ? `<label for="second_factor">Code from your authenticator app, or a recovery code</label>` +
      `<input id="second_factor" type="password" name="second_factor" required maxlength="64" autocomplete="one-time-code" inputmode="text" autofocus>`
    : '';
  return page(
    'Confirm the sign-in',
    `<h1>Sign in ${escapeHtml(v.clientName)}?</h1>` +
      `<p class="error" role="alert"><strong>Only continue if you started this sign-in on your own computer just now.</strong> ` +
      `Someone who sent you this code or link could otherwise act as you from their terminal.</p>` +
      `<p>Code: <strong>${escapeHtml(v.userCode)}</strong><br>Started ${escapeHtml(v.startedAgo)}<br>As <strong>${escapeHtml(v.email)}</strong></p>` +
      errorLine(v.error) +
      `<form method="post" action="${escapeHtml(v.action)}">${hidden('xsrf', v.xsrf)}${hidden('user_code', v.userCode)}${factor}` +
      `<button type="submit" name="confirm" value="yes"${v.needsFactor ? '' : ' autofocus'}>Yes, sign in</button>` +
      `<button type="submit" name="abort" value="yes" class="secondary" formnovalidate>No, cancel</button></form>`,
  );
}

export function deviceSignInFirstPage(portalUrl: string): string {
  return page(
    'Sign in first',
    `<h1>Sign in to Interim first</h1><p>To sign in the command line, sign in to Interim in this browser, then open the link from your terminal again.</p>` +
      `<p><a href="${escapeHtml(portalUrl)}">Open Interim</a></p>`,
  );
}

export function deviceDonePage(clientName: string): string {
  return page('Signed in', `<h1>Done</h1><p><strong>${escapeHtml(clientName)}</strong> is signed in. You can close this page and return to your terminal.</p>`);
}
