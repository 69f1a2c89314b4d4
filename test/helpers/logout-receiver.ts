import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface ReceivedLogout {
  /** The application the URI belongs to (`/logout/<app id>`). */
  appId: string;
  alg: string;
  payload: JWTPayload & { sid?: string; events?: Record<string, unknown> };
}

/**
 * A relying party's back-channel logout endpoint on loopback (OpenID Connect Back-Channel
 * Logout 1.0 §2.6-2.8), one path per application: `${url}/logout/<app id>`. Every token is
 * validated as an RP must: form-encoded `logout_token`; signature against the issuer's
 * JWKS; `typ` logout+jwt; iss; aud = the application; iat and exp present and current;
 * a jti never seen before; the back-channel logout event with an empty object; sub or sid;
 * no nonce. A valid token is answered 200 and kept; anything else 400, with the reason kept.
 */
export async function startLogoutReceiver() {
  const received: ReceivedLogout[] = [];
  const refused: string[] = [];
  const seenJtis = new Set<string>();
  const state = { issuer: '', status: 200 };

  async function validate(appId: string, contentType: string | undefined, body: string): Promise<ReceivedLogout> {
    if (!contentType?.startsWith('application/x-www-form-urlencoded')) throw new Error(`content-type ${contentType}`);
    const params = new URLSearchParams(body);
    const token = params.get('logout_token');
    if (!token || [...params.keys()].length !== 1) throw new Error('the body is not exactly logout_token=…');
    const jwks = (await (await fetch(`${state.issuer}/jwks`)).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify<ReceivedLogout['payload']>(token, createLocalJWKSet(jwks), {
      issuer: state.issuer,
      audience: appId,
      typ: 'logout+jwt',
      requiredClaims: ['iat', 'exp', 'jti', 'events'],
      maxTokenAge: '2 minutes',
    });
    if (Array.isArray(payload.aud) ? payload.aud.length !== 1 : payload.aud !== appId) throw new Error('aud is not exactly the client id');
    const event = payload.events?.[EVENT];
    if (!event || typeof event !== 'object' || Object.keys(event).length !== 0 || Object.keys(payload.events!).length !== 1) throw new Error('events is not the back-channel logout event');
    if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
    if (!payload.sub && !payload.sid) throw new Error('neither sub nor sid');
    if (payload.exp! <= payload.iat! || payload.exp! - payload.iat! > 300) throw new Error('exp is not shortly after iat');
    if (seenJtis.has(payload.jti!)) throw new Error(`jti ${payload.jti} replayed`);
    return { appId, alg: protectedHeader.alg, payload };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const appId = /^\/logout\/([^/?]+)$/.exec(req.url ?? '')?.[1];
      try {
        if (req.method !== 'POST' || !appId) throw new Error(`${req.method} ${req.url}`);
        const logout = await validate(appId, req.headers['content-type'], Buffer.concat(chunks).toString('utf8'));
        if (state.status >= 300) {
          res.writeHead(state.status).end('not now');
          return;
        }
        seenJtis.add(logout.payload.jti!);
        received.push(logout);
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
      } catch (error) {
        refused.push(error instanceof Error ? error.message : String(error));
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    received,
    refused,
    uriFor: (appId: string) => `${url}/logout/${appId}`,
    /** The issuer the tokens must come from (the test server's `${url}/oidc`). */
    expectIssuer(issuer: string) {
      state.issuer = issuer;
    },
    /** What a valid token gets next (200 by default): a 5xx makes the sender retry. A valid token answered otherwise is not kept. */
    answer(status: number) {
      state.status = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
