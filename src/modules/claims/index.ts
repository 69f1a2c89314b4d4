// The claims module's public surface: the pure rules of what a user's memberships give in a
// token (src/oidc reads them), beside claims.repo.ts's one query.
export { CLAIMS_MARGIN_MS, cappedTokenTtlSecs, mergeClaims, stillHolds, type ClaimValue, type EffectiveClaims } from './claims.ts';
export { mergeWindowedClaims } from './windows.ts';
export { USAGE_STALE_MS, isStale, staleGrants, type UsageSource } from './usage.ts';
