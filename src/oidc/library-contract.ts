import { createRequire } from 'node:module';
import type Provider from 'oidc-provider';

/**
 * The oidc-provider release Interim's three run-time patches were written and tested
 * against. package.json pins exactly this version; upgrading means re-reading the three
 * patched methods in the new release, then moving this constant and the pin together
 * (test/oidc-library-contract.test.ts holds them equal).
 *
 * oidc-provider has no supported hook for any of these needs:
 * - releasing claims whose names are data (mappings) in ID tokens and userinfo: its
 *   `claims` table is static configuration (src/oidc/claims-release.ts);
 * - comparing a presented client secret with a stored hash: it compares the stored
 *   `client_secret` with the presented one verbatim (src/oidc/clients.ts);
 * - leaving logout tokens to the outbox: with back-channel logout on it sends them itself
 *   (src/oidc/backchannel-logout.ts).
 */
export const VERIFIED_OIDC_PROVIDER_VERSION = '9.13.3';

export function installedOidcProviderVersion(): string {
  return (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string }).version;
}

/** The internals the patches replace or wrap: `[class name, method name]`. */
const PATCHED: ReadonlyArray<readonly ['Claims' | 'Client', string]> = [
  ['Claims', 'result'],
  ['Client', 'compareClientSecret'],
  ['Client', 'backchannelLogout'],
];

/**
 * Checks at start-up, before anything is patched, that what Interim patches still
 * exists, so an unexpected release fails with one clear line instead of releasing the
 * wrong claims or refusing every client secret.
 */
export function assertPatchableInternals(provider: Pick<Provider, 'Claims' | 'Client'>, version = installedOidcProviderVersion()): void {
  for (const [model, method] of PATCHED) {
    const proto = (provider[model] as unknown as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (typeof proto?.[method] !== 'function') {
      throw new Error(
        `oidc-provider ${version}: ${model}.prototype.${method} is missing. Interim patches it at run time and was verified against ` +
          `oidc-provider ${VERIFIED_OIDC_PROVIDER_VERSION}; install that exact version (npm ci) or port the patch in src/oidc/.`,
      );
    }
  }
}
