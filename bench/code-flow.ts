import { createHash, randomBytes } from 'node:crypto';

/**
 * The authorization-code flow with PKCE, driven over HTTP like a browser and a relying
 * party would: a compact copy of test/helpers/oidc-browser.ts and oidc-rp.ts without
 * vitest. It follows redirects while they stay on the server, fills in the login form
 * (and consent, if asked), stops at the redirect to the callback and redeems the code.
 */
export interface ClientCredentials {
  id: string;
  secret: string;
  redirectUri: string;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in: number;
}

export const BENCH_SCOPE = 'openid email profile offline_access';

export function basicAuth(client: ClientCredentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;
}

class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const gone = value === '' || attrs.some((a) => /^max-age=0$/i.test(a) || /^expires=.*1970/i.test(a));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

const decode = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"/i.exec(html);
  if (!form) throw new Error(`no form on the page:\n${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"/gi)) fields[decode(m[1]!)] = decode(m[2]!);
  return { action: decode(form[1]!), fields };
}

/** Follows same-origin redirects; returns the page it stopped at or the URL that left the server. */
async function navigate(jar: CookieJar, origin: string, url: string, form?: Record<string, string>): Promise<{ html?: string; leftTo?: string; status: number }> {
  let current = new URL(url, origin);
  let body: string | undefined = form ? new URLSearchParams(form).toString() : undefined;
  for (let hops = 0; hops < 20; hops++) {
    const headers: Record<string, string> = { cookie: jar.header() };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(current, { method: body === undefined ? 'GET' : 'POST', headers, body, redirect: 'manual' });
    jar.store(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      const next = new URL(location, current);
      if (next.origin !== origin) return { leftTo: next.href, status: res.status };
      current = next;
      body = undefined;
      continue;
    }
    return { html: await res.text(), status: res.status };
  }
  throw new Error('too many redirects');
}

/**
 * One sign-in through the front channel and the code exchange. `issuer` is the OIDC
 * base URL (…/oidc for Interim); `extraAuthParams` can carry login_hint or resource.
 */
export async function signInWithCodeFlow(
  issuer: string,
  client: ClientCredentials,
  user: { email: string; password: string },
  extraAuthParams: Record<string, string> = {},
): Promise<IssuedTokens> {
  const origin = new URL(issuer).origin;
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const auth = new URL(`${issuer}/auth`);
  const params = {
    client_id: client.id,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: BENCH_SCOPE,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
    ...extraAuthParams,
  };
  for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);

  let stop = await navigate(jar, origin, auth.href);
  if (stop.html && /name="password"/.test(stop.html)) {
    const form = parseForm(stop.html);
    stop = await navigate(jar, origin, form.action, { ...form.fields, email: user.email, password: user.password });
  }
  if (stop.html && /name="decision"/.test(stop.html)) {
    const form = parseForm(stop.html);
    stop = await navigate(jar, origin, form.action, { ...form.fields, decision: 'approve' });
  }
  if (!stop.leftTo) throw new Error(`sign-in of ${user.email} did not reach the callback (status ${stop.status}):\n${stop.html?.slice(0, 600)}`);
  const callback = new URL(stop.leftTo);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) throw new Error(`bad callback ${stop.leftTo}`);

  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier }).toString(),
  });
  const tokens = (await res.json()) as IssuedTokens & { error?: string };
  if (!res.ok || !tokens.refresh_token) throw new Error(`code exchange failed (${res.status}): ${JSON.stringify(tokens)}`);
  return tokens;
}

/** A refresh-token grant outside the load run (to top up pools or get opaque access tokens). */
export async function refresh(issuer: string, client: ClientCredentials, refreshToken: string, resource?: string): Promise<IssuedTokens> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  if (resource) body.set('resource', resource);
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  const tokens = (await res.json()) as IssuedTokens;
  if (!res.ok) throw new Error(`refresh failed (${res.status}): ${JSON.stringify(tokens)}`);
  return tokens;
}

/** Runs `task` over `items` with at most `width` in flight. */
export async function inParallel<T, R>(items: readonly T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
