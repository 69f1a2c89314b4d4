import { errors, interactionPolicy, type ClaimsParameter, type KoaContextWithOIDC } from 'oidc-provider';
import { meets, requiredAcr } from './acr.ts';

/** The login prompt's reason when the provider session's sign-in is weaker than the request requires. */
export const ACR_REASON = 'interim_acr';

/**
 * Requested authentication classes on the login prompt. oidc-provider's own checks
 * (essential_acr, essential_acrs) want the session's acr to equal a requested value and
 * ignore acr_values; ours orders the classes (a stronger sign-in satisfies a weaker
 * request) and treats acr_values as a requirement (acr.ts). The interaction page then asks
 * only for what is missing: a second factor, or a passkey.
 */
export function useAcrCheck(policy: ReturnType<typeof interactionPolicy.base>): void {
  const { Check } = interactionPolicy;
  const login = policy.get('login')!;
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  login.checks.add(
    new Check(ACR_REASON, 'the requested authentication context class needs a stronger sign-in', (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT; // no_session asks already
      return meets(oidc.acr, requiredAcr(oidc.params as { acr_values?: unknown; claims?: unknown })) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
}

/**
 * The claims parameter is on only so that an application can ask for an essential `acr`
 * (OIDC Core 5.5.1.1); any other claim requested through it is refused, so it cannot
 * release more than the scopes and mappings do.
 */
export function assertOnlyAcrRequested(_ctx: KoaContextWithOIDC, claims: ClaimsParameter): void {
  const idToken = claims.id_token ?? {};
  const userinfo = claims.userinfo ?? {};
  const others = [...Object.keys(idToken).filter((c) => c !== 'acr'), ...Object.keys(userinfo)];
  if (others.length > 0) throw new errors.InvalidRequest(`only the acr claim may be requested with the claims parameter (not ${others.join(', ')})`);
}
