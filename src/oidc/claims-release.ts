import type Provider from 'oidc-provider';
import { MAPPED_CLAIMS } from './account.ts';

interface ClaimsFilter {
  available: Record<string | symbol, unknown>;
  result(): Promise<Record<string, unknown>>;
}

/**
 * How mapped claims reach the ID token and userinfo.
 *
 * oidc-provider releases a claim only when its static `claims` configuration names it
 * under a granted scope. Mapping claim names are data that admins change at runtime,
 * so no static table can list them, and rebuilding the provider whenever a mapping
 * changes would need coordination across instances. Instead, the account's claims()
 * marks the members that came from the application's mappings (it adds them only when
 * `openid` is granted) and this filter lets exactly those through after the library has
 * applied its own rules to the standard claims. Reserved names never get here: they are
 * dropped by mergeClaims. Access tokens and introspection get the same claims through
 * extraTokenClaims.
 */
export function releaseMappedClaims(provider: Provider): void {
  const proto = (provider.Claims as unknown as { prototype: ClaimsFilter }).prototype;
  const libraryResult = proto.result;
  proto.result = async function resultWithMappedClaims(this: ClaimsFilter) {
    const released = await libraryResult.call(this);
    const mapped = this.available[MAPPED_CLAIMS];
    if (Array.isArray(mapped)) {
      for (const name of mapped as string[]) {
        if (!(name in released)) released[name] = this.available[name];
      }
    }
    return released;
  };
}
