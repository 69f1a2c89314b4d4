export { createSecondFactors, relyingPartyOf, totpOf, recoveryCodeHash, type SecondFactors, type RelyingParty } from './factors.service.ts';
export { ACR, ACR_ORDER, acrOf, amrOf, type Acr, type FactorMethod, type FactorProof, type FactorUse } from './mfa.types.ts';
