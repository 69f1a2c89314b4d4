import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * The yardstick of DESIGN's performance budget: bare oidc-provider with its in-memory
 * adapter, configured like Interim where the token endpoint is concerned (EdDSA, JWT
 * access tokens for a resource indicator, rotating refresh tokens, userinfo, the same
 * scopes and claims) but with nothing of ours: no database, no mapped claims, no
 * Fastify. Accounts are whatever login_hint names. Run as its own process:
 *   BARE_PORT=… BARE_CLIENT='{"id","secret","redirectUri"}' node bench/bare-provider.ts
 */
const port = Number(process.env.BARE_PORT);
const client = JSON.parse(process.env.BARE_CLIENT ?? '{}') as { id: string; secret: string; redirectUri: string };
const issuer = `http://127.0.0.1:${port}`;
/** The ID token's and JWT access token's algorithm (BARE_ALG), as the application's in Interim. */
const alg = (process.env.BARE_ALG ?? 'EdDSA') as 'EdDSA' | 'RS256';

function signingKey(alg: 'EdDSA' | 'ES256' | 'RS256'): JsonWebKey {
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg, use: 'sig' };
}

const configuration: Configuration = {
  clients: [
    {
      client_id: client.id,
      client_secret: client.secret,
      redirect_uris: [client.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: alg,
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey('EdDSA'), signingKey('ES256'), signingKey('RS256')] as never[] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@bench.test`, name: id }) }),
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  rotateRefreshToken: true,
  ttl: { AccessToken: 300, IdToken: 3600, RefreshToken: 30 * 86400, AuthorizationCode: 60, Interaction: 1800, Session: 86400, Grant: 365 * 86400 },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: (_ctx, resource) => ({ scope: '', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg } } }),
      useGrantedResource: () => false,
    },
  },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

/** Sign-in and consent in one step: the account is the login_hint, every requested scope is granted. */
const server = createServer((req, res) => {
  if (!req.url?.startsWith('/interaction/')) return void callback(req, res);
  void (async () => {
    const details = await provider.interactionDetails(req, res);
    const accountId = String(details.params.login_hint ?? 'nobody');
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  })().catch((error: unknown) => {
    res.statusCode = 500;
    res.end(String(error));
  });
});
server.listen(port, '127.0.0.1', () => process.stderr.write(`bare oidc-provider listening on ${issuer}\n`));
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
