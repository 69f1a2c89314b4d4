import { postForm, unreachable, type Api } from './api.ts';
import { openBrowser } from './browser.ts';
import { CliError, EXIT } from './exit-codes.ts';
import type { Credentials, Store } from './store.ts';
import { systemClock } from '../clock.ts';
import { CLI_CLIENT_ID, DEVICE_CODE_GRANT } from '../oidc/cli-client.ts';

interface Discovery {
  device_authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's OpenID configuration (its endpoints), from its public URL. */
async function discover(server: string): Promise<Required<Discovery>> {
  let res: Response;
  try {
    res = await fetch(`${server}/oidc/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw unreachable(server, error);
  }
  const body = (res.ok ? await res.json().catch(() => ({})) : {}) as Discovery;
  if (!body.device_authorization_endpoint || !body.token_endpoint) throw new CliError(EXIT.error, `${server} is not an Interim server with command-line sign-in (no device authorization endpoint)`);
  return { device_authorization_endpoint: body.device_authorization_endpoint, token_endpoint: body.token_endpoint, revocation_endpoint: body.revocation_endpoint ?? '' };
}

export function normaliseServer(value: string): string {
  const url = URL.parse(value.trim());
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new CliError(EXIT.usage, `--server must be the Interim URL, e.g. https://interim.example.com (got "${value}")`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * `interim login`: the device authorization grant (RFC 8628). Prints the page and the
 * code (stderr), opens the browser unless told not to, and polls the token endpoint at
 * the server's `interval`, slowing down by 5 s whenever it says `slow_down`.
 */
export async function login(store: Store, opts: { server: string; browser: boolean; say: (line: string) => void }): Promise<Credentials> {
  const server = normaliseServer(opts.server);
  const endpoints = await discover(server);
  const started = await postForm(endpoints.device_authorization_endpoint, { client_id: CLI_CLIENT_ID, scope: 'openid email offline_access' });
  const auth = started.body as { device_code?: string; user_code?: string; verification_uri?: string; verification_uri_complete?: string; expires_in?: number; interval?: number; error_description?: string };
  if (started.status !== 200 || !auth.device_code || !auth.user_code || !auth.verification_uri) {
    throw new CliError(EXIT.error, `the server refused to start a sign-in: ${String(auth.error_description ?? started.status)}`);
  }
  const link = auth.verification_uri_complete ?? auth.verification_uri;
  opts.say(`To sign in, open ${auth.verification_uri} and enter the code ${auth.user_code}`);
  opts.say(`(or open ${link}). Confirm only if the page shows this code. It expires in ${Math.round((auth.expires_in ?? 300) / 60)} minutes.`);
  if (opts.browser && openBrowser(link)) opts.say('Opened your browser.');

  let intervalMs = Math.max(1, auth.interval ?? 5) * 1000;
  const deadline = systemClock.now() + (auth.expires_in ?? 300) * 1000;
  for (;;) {
    await sleep(intervalMs);
    const { status, body } = await postForm(endpoints.token_endpoint, { grant_type: DEVICE_CODE_GRANT, device_code: auth.device_code, client_id: CLI_CLIENT_ID });
    if (status === 200 && typeof body.access_token === 'string' && typeof body.refresh_token === 'string') {
      const credentials: Credentials = {
        server,
        client_id: CLI_CLIENT_ID,
        token_endpoint: endpoints.token_endpoint,
        revocation_endpoint: endpoints.revocation_endpoint || undefined,
        access_token: body.access_token,
        refresh_token: body.refresh_token,
        access_expires_at: systemClock.now() + Number(body.expires_in ?? 0) * 1000,
      };
      store.write(credentials);
      return credentials;
    }
    switch (body.error) {
      case 'authorization_pending':
        break;
      case 'slow_down':
        intervalMs += 5000;
        break;
      case 'access_denied':
        throw new CliError(EXIT.denied, 'the sign-in was cancelled in the browser');
      case 'expired_token':
        throw new CliError(EXIT.notSignedIn, 'the code expired before it was confirmed; run interim login again');
      default:
        throw new CliError(EXIT.error, `sign-in failed: ${String(body.error_description ?? body.error ?? status)}`);
    }
    if (systemClock.now() > deadline) throw new CliError(EXIT.notSignedIn, 'the code expired before it was confirmed; run interim login again');
  }
}

/** Ends a sign-in on its server: revokes its refresh token (the provider ends its grant and tokens); best effort. */
export async function revokeSignIn(credentials: Credentials): Promise<void> {
  if (!credentials.revocation_endpoint) return;
  await postForm(credentials.revocation_endpoint, { token: credentials.refresh_token, token_type_hint: 'refresh_token', client_id: credentials.client_id }).catch(() => undefined);
}

/** `interim logout`: revokes the refresh token (the provider ends its grant and tokens), then forgets the sign-in. */
export async function logout(api: Api): Promise<boolean> {
  const credentials = api.store.read();
  if (!credentials) return false;
  await revokeSignIn(credentials);
  api.store.remove();
  return true;
}
