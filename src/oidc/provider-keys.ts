import { createLocalJWKSet, importJWK, jwtVerify, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { Core } from '../core.ts';
import type { Encrypter } from '../security/encryption.ts';
import { keySetAt } from './key-schedule.ts';
import { readKeys, readKeysVersion, type PrivateJwk, type SigningAlg } from './keys.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
const publicOf = (jwk: PrivateJwk): JWK => {
  const out: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete out[m];
  return out as JWK;
};

interface KeyState {
  version: string;
  validUntil: number;
  keys: PrivateJwk[];
  /** Imported once per key state and algorithm. */
  imported: Map<SigningAlg, Promise<CryptoKey | Uint8Array>>;
  verify: ReturnType<typeof createLocalJWKSet>;
}

/**
 * The provider's keys for what Interim signs outside oidc-provider (back-channel logout
 * tokens, Security Event Tokens) and verifies (an SSF receiver's access token): read from
 * the database, decrypted and imported once, and read again when their version changes or
 * the key schedule moves on (rotation). Within an algorithm the key that signs now comes
 * first (key-schedule.ts), as for the provider's own tokens.
 */
export function createProviderKeys(core: Pick<Core, 'db' | 'clock'>, encrypter: Encrypter) {
  let state: KeyState | undefined;
  let loading: Promise<KeyState> | undefined;

  async function load(version: string): Promise<KeyState> {
    const stored = await readKeys(core, encrypter);
    const { secrets, validUntil } = keySetAt(stored.keys, stored.cookieKeys, core.clock.now());
    return { version, validUntil, keys: secrets.keys, imported: new Map(), verify: createLocalJWKSet({ keys: secrets.keys.map(publicOf) }) };
  }

  async function current(): Promise<KeyState> {
    const version = await readKeysVersion(core.db);
    if (state && state.version === version && core.clock.now() < state.validUntil) return state;
    loading ??= load(version).finally(() => (loading = undefined));
    state = await loading;
    return state;
  }

  return {
    /** The key that signs now for `alg`, with its `kid`. */
    async signer(alg: SigningAlg): Promise<{ kid: string; key: CryptoKey | Uint8Array }> {
      const s = await current();
      const jwk = s.keys.find((k) => k.alg === alg);
      if (!jwk) throw new Error(`no ${alg} signing key is in use: the provider keys are incomplete`);
      let key = s.imported.get(alg);
      if (!key) s.imported.set(alg, (key = importJWK(jwk, alg) as Promise<CryptoKey | Uint8Array>));
      return { kid: jwk.kid, key: await key };
    },
    /** A JWT signed by one of the provider's published keys; its claims. */
    async verify(token: string, options: JWTVerifyOptions): Promise<JWTPayload> {
      const { verify } = await current();
      return (await jwtVerify(token, verify, options)).payload;
    },
  };
}
export type ProviderKeys = ReturnType<typeof createProviderKeys>;
