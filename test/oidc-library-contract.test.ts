import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type AdapterPayload, type Client } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { MAPPED_CLAIMS } from '../src/oidc/account.ts';
import { releaseMappedClaims } from '../src/oidc/claims-release.ts';
import { useHashedClientSecrets } from '../src/oidc/clients.ts';
import { leaveBackchannelLogoutToOutbox } from '../src/oidc/backchannel-logout.ts';
import { generateSigningKey } from '../src/oidc/keys.ts';
import { assertPatchableInternals, installedOidcProviderVersion, VERIFIED_OIDC_PROVIDER_VERSION } from '../src/oidc/library-contract.ts';
import { sha256 } from '../src/security/tokens.ts';

/**
 * The contract between Interim and the oidc-provider internals it patches
 * (Claims.prototype.result, Client.prototype.compareClientSecret, Client.prototype.backchannelLogout): the exact version is
 * pinned, the patched methods exist, the library still behaves the way that makes the
 * patches necessary, and the patched library behaves as Interim needs.
 */
const SECRET = 'cs_contract-secret';

/** A minimal in-memory store, so the library does not warn about its development adapter. */
class MemoryAdapter {
  private readonly rows = new Map<string, AdapterPayload>();
  async upsert(id: string, payload: AdapterPayload) {
    this.rows.set(id, payload);
  }
  async find(id: string) {
    return this.rows.get(id);
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    const row = this.rows.get(id);
    if (row) row.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    this.rows.delete(id);
  }
  async revokeByGrantId() {}
}

async function standaloneProvider() {
  const provider = new Provider('http://127.0.0.1/oidc', {
    adapter: MemoryAdapter,
    jwks: { keys: [(await generateSigningKey('EdDSA')) as never] },
    clients: [{ client_id: 'contract', client_secret: sha256(SECRET), grant_types: ['client_credentials'], redirect_uris: [], response_types: [], id_token_signed_response_alg: 'EdDSA' }],
    claims: { openid: ['sub'] },
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  });
  const client = (await provider.Client.find('contract')) as Client;
  return { provider, client };
}

describe('oidc-provider: the internals Interim patches', () => {
  it('is pinned to the exact version the patches were verified against', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['oidc-provider']).toBe(VERIFIED_OIDC_PROVIDER_VERSION);
    expect(installedOidcProviderVersion()).toBe(VERIFIED_OIDC_PROVIDER_VERSION);
  });

  it('finds both patched methods, and names the version when one is gone', async () => {
    const { provider } = await standaloneProvider();
    expect(() => assertPatchableInternals(provider)).not.toThrow();
    class Claims {}
    const withoutResult = { Claims, Client: provider.Client } as unknown as Provider;
    expect(() => assertPatchableInternals(withoutResult, '10.0.0')).toThrow(/^oidc-provider 10\.0\.0: Claims\.prototype\.result is missing.*verified against oidc-provider 9\.13\.3/);
    class BareClient {}
    expect(() => assertPatchableInternals({ Claims: provider.Claims, Client: BareClient } as unknown as Provider, '10.0.0')).toThrow(/Client\.prototype\.compareClientSecret is missing/);
    class ClientWithoutLogout {
      compareClientSecret() {}
    }
    expect(() => assertPatchableInternals({ Claims: provider.Claims, Client: ClientWithoutLogout } as unknown as Provider, '10.0.0')).toThrow(/Client\.prototype\.backchannelLogout is missing/);
  });

  it('backchannelLogout: the library makes a request of its own; patched, it makes none (the outbox sends the tokens)', async () => {
    const provider = new Provider('http://127.0.0.1/oidc', {
      adapter: MemoryAdapter,
      jwks: { keys: [(await generateSigningKey('EdDSA')) as never] },
      clients: [
        {
          client_id: 'rp',
          client_secret: 'x',
          redirect_uris: ['https://rp.example.test/cb'],
          id_token_signed_response_alg: 'EdDSA',
          backchannel_logout_uri: 'https://127.0.0.1:9/logout',
          backchannel_logout_session_required: true,
        },
      ],
      features: { backchannelLogout: { enabled: true }, devInteractions: { enabled: false } },
    });
    const client = (await provider.Client.find('rp')) as Client & { backchannelLogout(sub: string, sid: string): Promise<void> };
    // Its own HTTP client refuses the loopback address: proof that it tried to send.
    await expect(client.backchannelLogout('user-1', 'sid-1')).rejects.toThrow(/fetch failed/);
    leaveBackchannelLogoutToOutbox(provider.Client);
    await expect(client.backchannelLogout('user-1', 'sid-1')).resolves.toBeUndefined();
  });

  it('Claims.result: the library drops claim names its static table lacks; the patch releases exactly the mapped ones', async () => {
    const { provider, client } = await standaloneProvider();
    const available = { sub: 'user-1', team: 'platform', unlisted: 'x', [MAPPED_CLAIMS]: ['team'] };
    expect(await new provider.Claims({ ...available }, { client }).scope('openid').result()).toEqual({ sub: 'user-1' });
    releaseMappedClaims(provider);
    expect(await new provider.Claims({ ...available }, { client }).scope('openid').result()).toEqual({ sub: 'user-1', team: 'platform' });
  });

  it('compareClientSecret: the library compares verbatim; patched, it compares the hash of the presented secret, through client authentication', async () => {
    const { provider, client } = await standaloneProvider();
    expect(await client.compareClientSecret(sha256(SECRET))).toBe(true);
    expect(await client.compareClientSecret(SECRET)).toBe(false);
    useHashedClientSecrets(provider.Client);
    expect(await client.compareClientSecret(SECRET)).toBe(true);
    expect(await client.compareClientSecret(sha256(SECRET))).toBe(false);

    // The library's own client authentication goes through the patched method.
    const server = createServer(provider.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const token = (secret: string) =>
        fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`contract:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
      const ok = await token(SECRET);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { access_token?: string }).access_token).toBeTruthy();
      const hashAsSecret = await token(sha256(SECRET));
      expect(hashAsSecret.status).toBe(401);
      expect(((await hashAsSecret.json()) as { error: string }).error).toBe('invalid_client');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
