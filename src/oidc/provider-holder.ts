import type Provider from 'oidc-provider';
import type { Core } from '../core.ts';
import type { Encrypter } from '../security/encryption.ts';
import { keySetAt } from './key-schedule.ts';
import { loadOidcKeys, readKeys, readKeysVersion, type OidcSecrets, type StoredKeys } from './keys.ts';

export interface BuiltProvider {
  provider: Provider;
  callback: ReturnType<Provider['callback']>;
}

export interface ProviderHolderDeps {
  core: Pick<Core, 'db' | 'dialect' | 'clock'>;
  encrypter: Encrypter;
  /** How often a process reads the key version (one small query, on the next request after this long). */
  keyCheckMs: number;
  build(secrets: OidcSecrets): Provider;
}

/**
 * The Provider behind the /oidc mount, rebuilt whenever its keys change (DESIGN: a key
 * change rebuilds the Provider in each process). oidc-provider takes its keys once, at
 * construction, so a new key set means a new Provider; requests already running finish
 * on the old one. Two things change the key set:
 * - the key version row (rotation anywhere): each process reads it at most every
 *   keyCheckMs, on the next request, and reloads the keys when it moved;
 * - the schedule itself: a key starting to sign or retiring at a stored instant, which
 *   needs no query (validUntil).
 * Rotation publishes a key long before it signs (publish delay ≫ keyCheckMs), so every
 * process serves the new key in its JWKS, and accepts cookies it signs, before any
 * process signs with it.
 */
export async function createProviderHolder(deps: ProviderHolderDeps) {
  const { core, encrypter } = deps;
  let stored: StoredKeys = await loadOidcKeys(core, encrypter);
  let built: BuiltProvider & { builtAt: number; validUntil: number };
  let checkedAt = core.clock.now();
  let refreshing: Promise<void> | undefined;

  const build = (now: number) => {
    const { secrets, validUntil } = keySetAt(stored.keys, stored.cookieKeys, now);
    const provider = deps.build(secrets);
    built = { provider, callback: provider.callback(), builtAt: now, validUntil };
  };
  build(checkedAt);

  // A clock that went back (tests move it) makes the last check and build meaningless.
  const stale = (now: number) => now >= built.validUntil || now < built.builtAt;
  const checkDue = (now: number) => now - checkedAt >= deps.keyCheckMs || now < checkedAt;

  async function refresh(now: number): Promise<void> {
    if (checkDue(now)) {
      checkedAt = now;
      if ((await readKeysVersion(core.db)) !== stored.version) {
        stored = await readKeys(core, encrypter);
        build(now);
        return;
      }
    }
    if (stale(now)) build(now);
  }

  return {
    /** The Provider for this instant; reads the key version first when it is due. */
    async current(): Promise<BuiltProvider> {
      const now = core.clock.now();
      if (stale(now) || checkDue(now)) {
        refreshing ??= refresh(now).finally(() => (refreshing = undefined));
        await refreshing;
      }
      return built;
    },
    /** The Provider built last, for code that cannot wait (it is at most keyCheckMs behind). */
    get latest(): Provider {
      return built.provider;
    },
  };
}
export type ProviderHolder = Awaited<ReturnType<typeof createProviderHolder>>;
