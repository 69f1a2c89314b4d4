import { ACR, ACR_ORDER, acrOf, amrOf, type Acr, type FactorMethod, type FactorUse } from '../modules/mfa/index.ts';

/**
 * The rules of signing in to applications with a second factor (docs/mfa.md, "Signing in
 * to applications"): what an authorization request requires, whether a sign-in meets it,
 * and what a completed sign-in asserts. Pure, so they are tested exhaustively.
 */

const rank = (acr: string | undefined): number => Math.max(0, ACR_ORDER.indexOf(acr as Acr));

/** Whether a sign-in at `acr` (undefined: an older session, password only) satisfies `required`. */
export const meets = (acr: string | undefined, required: Acr | null): boolean => required === null || rank(acr) >= rank(required);

/** The weakest of the classes we know among `values`: the request accepts any of them, so that one is enough. */
function weakestKnown(values: unknown[]): Acr | null {
  const known = ACR_ORDER.filter((acr) => values.includes(acr));
  return known[0] ?? null;
}

/**
 * What an authorization request requires: `acr_values` (space-separated, in preference
 * order) or, without it, an essential `acr` claim in the claims parameter (`value` or
 * `values`). Interim treats `acr_values` as a requirement, not a wish: an application asks
 * for a class because it needs it. Values Interim does not know are ignored; a request
 * naming none it knows requires nothing. Null: no requirement.
 */
export function requiredAcr(params: { acr_values?: unknown; claims?: unknown }): Acr | null {
  if (typeof params.acr_values === 'string' && params.acr_values.trim() !== '') return weakestKnown(params.acr_values.trim().split(/\s+/));
  const acr = essentialAcrClaim(params.claims);
  if (!acr) return null;
  if (typeof acr.value === 'string') return weakestKnown([acr.value]);
  return Array.isArray(acr.values) ? weakestKnown(acr.values) : null;
}

function essentialAcrClaim(claims: unknown): { value?: unknown; values?: unknown } | undefined {
  if (typeof claims !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    return undefined; // the provider refuses such a request before any page
  }
  const acr = (parsed as { id_token?: { acr?: unknown } } | null)?.id_token?.acr;
  if (!acr || typeof acr !== 'object' || (acr as { essential?: unknown }).essential !== true) return undefined;
  return acr as { value?: unknown; values?: unknown };
}

/** The factors that can reach `required` as a second step: only a passkey is phishing-resistant. */
export function methodsFor(required: Acr | null, methods: readonly FactorMethod[]): FactorMethod[] {
  return required === ACR.phishingResistant ? methods.filter((m) => m === 'webauthn') : [...methods];
}

/** Whether a factor of this method, used as the second step, can reach `required`. */
export const methodReaches = (method: FactorMethod, required: Acr | null): boolean => methodsFor(required, [method]).length > 0;

/**
 * What a sign-in asserts once a factor has passed after `firstAmr` (the password, or a live
 * session's amr): the union, with `mfa` when there were two steps. A passkey alone (no
 * first step) asserts what the passkey did.
 */
export function amrAfter(firstAmr: readonly string[], use: Pick<FactorUse, 'method' | 'userVerified'>): string[] {
  const amr = new Set([...firstAmr.filter((v) => v !== 'mfa'), ...amrOf(use)]);
  if (firstAmr.length > 0) amr.add('mfa');
  return [...amr];
}

/** The login result for oidc-provider: who, how (amr), the class that reached (acr), and when (seconds). */
export function loginResult(accountId: string, amr: readonly string[], signedInAtMs: number) {
  return { login: { accountId, amr: [...amr], acr: acrOf(amr), ts: Math.floor(signedInAtMs / 1000) } };
}
