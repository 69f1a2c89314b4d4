import { createHash } from 'node:crypto';
import { htmlPageHeaders } from '../http/security-headers.ts';

/**
 * Server-rendered pages of the sign-in flow. Every piece of user or client text goes
 * through escapeHtml. The pages need no script, except the one auto-submitting form
 * (autoSubmitPage), which runs under a per-response nonce, and the passkey button, a
 * static file of ours (script-src 'self', never inline).
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE =
  'body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}' +
  'main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}' +
  'h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .3rem;font-size:.9rem}' +
  'input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b8bfcc;border-radius:4px;font-size:1rem}' +
  'button{margin-top:1.2rem;padding:.6rem 1rem;border:0;border-radius:4px;background:#2456c7;color:#fff;font-size:1rem;cursor:pointer}' +
  'button.secondary{background:#e3e6ec;color:#1d2330;margin-left:.5rem}.error{background:#fdecec;color:#8a1c1c;padding:.6rem;border-radius:4px}' +
  'ul{padding-left:1.2rem}.muted{color:#5b6475;font-size:.9rem}' +
  'input[type=text]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b8bfcc;border-radius:4px;font-size:1rem}' +
  'button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #2456c7;outline-offset:2px}.or{margin:1.4rem 0 0;border-top:1px solid #e3e6ec;padding-top:.4rem}';

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

export interface PageCsp {
  /** Where the page's forms may go, and where the redirects after them may lead ('self' always). */
  formActions?: readonly string[];
  /** A per-response nonce for the one inline script a page may need (an auto-submitting form). */
  scriptNonce?: string;
  /** The page loads our own static scripts (the passkey button, PASSKEY_SCRIPT_PATH): script-src 'self'. */
  ownScripts?: boolean;
}

/**
 * The CSP of every sign-in page: no script unless a nonce is given, styles only by
 * hash, forms only to this origin and the origins the caller names (the client's
 * redirect URI: browsers check form-action against the redirects a form post leads to).
 */
export function cspOf(opts: PageCsp = {}): string {
  return [
    "default-src 'none'",
    opts.scriptNonce ? `script-src 'nonce-${opts.scriptNonce}'` : opts.ownScripts ? "script-src 'self'" : "script-src 'none'",
    `style-src 'sha256-${STYLE_HASH}'`,
    "img-src 'self'",
    `form-action ${["'self'", ...new Set(opts.formActions ?? [])].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Headers for a page here: no caching, no framing, no referrer, the CSP above. */
export const pageHeaders = (opts: PageCsp = {}): Record<string, string> => htmlPageHeaders(cspOf(opts));

/** The origin of a URL, or nothing for a URL that has none (custom schemes give "null"). */
export function originOf(url: unknown): string[] {
  if (typeof url !== 'string') return [];
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? [] : [origin];
  } catch {
    return [];
  }
}

/** A whole sign-in page around `body` (escaped by the caller). */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Interim</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

/** Where the passkey button's script is served (the @simplewebauthn/browser bundle and ours, one file). */
export const PASSKEY_SCRIPT_PATH = '/oidc/assets/passkey.js';

/**
 * A form the passkey script fills in: the button asks the browser for an assertion with
 * `options` (the WebAuthn request options, carried in a data attribute, never as script)
 * and posts it. Without scripts or WebAuthn the button says why and does nothing.
 */
export function passkeyForm(v: { action: string; csrf: string; options: unknown; label: string }): string {
  return (
    `<form id="passkey-form" method="post" action="${escapeHtml(v.action)}" data-options="${escapeHtml(JSON.stringify(v.options))}">` +
    `<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}"><input type="hidden" name="webauthn" value="">` +
    `<button type="button" id="passkey-button">${escapeHtml(v.label)}</button>` +
    `<p id="passkey-status" class="muted" role="status" aria-live="polite"></p></form>` +
    `<script src="${PASSKEY_SCRIPT_PATH}"></script>`
  );
}

export function loginPage(v: { action: string; csrf: string; clientName: string; email?: string; error?: string; passkey?: { action: string; options: unknown } }): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1><p class="muted">to continue to <strong>${escapeHtml(v.clientName)}</strong></p>` +
      (v.error ? `<p class="error" role="alert">${escapeHtml(v.error)}</p>` : '') +
      `<form method="post" action="${escapeHtml(v.action)}" autocomplete="on">` +
      `<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">` +
      `<label for="email">Email</label><input id="email" type="email" name="email" required maxlength="320" autocomplete="username" value="${escapeHtml(v.email ?? '')}"${v.email ? '' : ' autofocus'}>` +
      `<label for="password">Password</label><input id="password" type="password" name="password" required maxlength="1024" autocomplete="current-password"${v.email ? ' autofocus' : ''}>` +
      `<button type="submit">Sign in</button></form>` +
      (v.passkey ? `<div class="or">${passkeyForm({ action: v.passkey.action, csrf: v.csrf, options: v.passkey.options, label: 'Sign in with a passkey' })}</div>` : ''),
  );
}

/**
 * The second step: a code from the authenticator app or a recovery code (unless the
 * application requires a passkey), and the passkey button when the user has one.
 */
export function secondFactorPage(v: {
  action: string;
  passkeyAction: string;
  csrf: string;
  clientName: string;
  /** The WebAuthn request options, when a passkey may be used. */
  passkeyOptions?: unknown;
  /** Whether a code (TOTP or recovery) may be used. */
  codes: boolean;
  /** Why only a passkey is offered, when so. */
  note?: string;
  error?: string;
}): string {
  return page(
    'Confirm it is you',
    `<h1>Confirm it is you</h1><p class="muted">to continue to <strong>${escapeHtml(v.clientName)}</strong></p>` +
      (v.error ? `<p class="error" role="alert">${escapeHtml(v.error)}</p>` : '') +
      (v.note ? `<p>${escapeHtml(v.note)}</p>` : '') +
      (v.codes
        ? `<form method="post" action="${escapeHtml(v.action)}" autocomplete="off"><input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">` +
          `<label for="code">Code from your authenticator app, or a recovery code</label>` +
          `<input id="code" type="text" name="code" required maxlength="64" inputmode="text" autocomplete="one-time-code" autofocus>` +
          `<button type="submit">Continue</button></form>`
        : '') +
      (v.passkeyOptions ? `<div class="or">${passkeyForm({ action: v.passkeyAction, csrf: v.csrf, options: v.passkeyOptions, label: 'Use a passkey' })}</div>` : ''),
  );
}

/** The application requires a second factor (or a passkey) this user has not enrolled: say where to enrol, and go back with an error. */
export function unmetPage(v: { action: string; csrf: string; clientName: string; text: string; portalUrl: string }): string {
  return page(
    'A stronger sign-in is required',
    `<h1>A stronger sign-in is required</h1><p>${escapeHtml(v.text)}</p>` +
      `<p><a href="${escapeHtml(v.portalUrl)}">Open the Interim portal to add a passkey</a></p>` +
      `<form method="post" action="${escapeHtml(v.action)}"><input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">` +
      `<button type="submit">Return to ${escapeHtml(v.clientName)}</button></form>`,
  );
}

export function consentPage(v: { action: string; csrf: string; clientName: string; scopes: string[]; resources: string[] }): string {
  const scopeText: Record<string, string> = {
    openid: 'Know who you are',
    profile: 'See your name',
    email: 'See your email address',
    offline_access: 'Stay signed in while you are away',
  };
  const items = [...v.scopes.map((s) => scopeText[s] ?? s), ...v.resources.map((r) => `Call ${r} on your behalf`)];
  return page(
    'Allow access',
    `<h1>Allow access?</h1><p><strong>${escapeHtml(v.clientName)}</strong> asks to:</p>` +
      `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>` +
      `<form method="post" action="${escapeHtml(v.action)}"><input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">` +
      `<button type="submit" name="decision" value="approve">Allow</button>` +
      `<button type="submit" name="decision" value="deny" class="secondary">Deny</button></form>`,
  );
}

export function messagePage(title: string, text: string, link?: { href: string; label: string }): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>` + (link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : ''),
  );
}

export function errorPage(error: string, description?: string): string {
  return page('Sign-in error', `<h1>Something went wrong</h1><p><strong>${escapeHtml(error)}</strong></p>` + (description ? `<p>${escapeHtml(description)}</p>` : ''));
}

/** `form` is oidc-provider's own logout form (an action URL and its xsrf token); the buttons submit it. */
export function logoutPage(form: string, clientName?: string): string {
  return page(
    'Sign out',
    `<h1>Sign out?</h1><p>${clientName ? `<strong>${escapeHtml(clientName)}</strong> asks to sign you out. ` : ''}Do you want to sign out of Interim and every application?</p>` +
      form +
      `<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign out</button>` +
      `<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}

export function loggedOutPage(clientName?: string): string {
  return messagePage('Signed out', clientName ? `You have signed out of ${clientName} and Interim.` : 'You have signed out of Interim.');
}

/** A form that submits itself (sign-out confirmed by a matching id_token_hint); a button if scripts are off. */
export function autoSubmitPage(v: { action: string; fields: Record<string, string>; nonce: string; title: string }): string {
  const inputs = Object.entries(v.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return page(
    v.title,
    `<h1>${escapeHtml(v.title)}</h1><form method="post" action="${escapeHtml(v.action)}">${inputs}<button type="submit">Continue</button></form>` +
      `<script nonce="${escapeHtml(v.nonce)}">document.forms[0].submit()</script>`,
  );
}
