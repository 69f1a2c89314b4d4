import { describe, expect, it } from 'vitest';
import { ACR, ACR_ORDER, acrOf, type FactorMethod } from '../src/modules/mfa/index.ts';
import { amrAfter, loginResult, meets, methodReaches, methodsFor, requiredAcr } from '../src/oidc/acr.ts';

const { password, mfa, phishingResistant } = ACR;

describe('OIDC acr rules (pure)', () => {
  it('orders the classes: a stronger sign-in meets a weaker requirement, never the reverse', () => {
    for (const [i, have] of ACR_ORDER.entries()) {
      expect(meets(have, null)).toBe(true);
      for (const [j, want] of ACR_ORDER.entries()) expect(meets(have, want)).toBe(i >= j);
    }
    // An older session without acr, or one we do not know, counts as a password.
    expect(meets(undefined, password)).toBe(true);
    expect(meets(undefined, mfa)).toBe(false);
    expect(meets('urn:other', mfa)).toBe(false);
  });

  it('reads acr_values as a requirement: the weakest known value listed, unknown values ignored', () => {
    expect(requiredAcr({})).toBeNull();
    expect(requiredAcr({ acr_values: '' })).toBeNull();
    expect(requiredAcr({ acr_values: 'urn:other' })).toBeNull();
    expect(requiredAcr({ acr_values: mfa })).toBe(mfa);
    expect(requiredAcr({ acr_values: `${phishingResistant} ${mfa}` })).toBe(mfa);
    expect(requiredAcr({ acr_values: `  urn:other  ${phishingResistant} ` })).toBe(phishingResistant);
    expect(requiredAcr({ acr_values: `${password} ${phishingResistant}` })).toBe(password);
    expect(requiredAcr({ acr_values: 42 })).toBeNull();
  });

  it('reads an essential acr claim (value or values) when there is no acr_values; a voluntary one requires nothing', () => {
    const claims = (acr: unknown) => JSON.stringify({ id_token: { acr } });
    expect(requiredAcr({ claims: claims({ essential: true, value: mfa }) })).toBe(mfa);
    expect(requiredAcr({ claims: claims({ essential: true, values: [phishingResistant, mfa] }) })).toBe(mfa);
    expect(requiredAcr({ claims: claims({ essential: true, values: 'not a list' }) })).toBeNull();
    expect(requiredAcr({ claims: claims({ value: mfa }) })).toBeNull();
    expect(requiredAcr({ claims: claims({ essential: 'true', value: mfa }) })).toBeNull();
    expect(requiredAcr({ claims: claims(null) })).toBeNull();
    expect(requiredAcr({ claims: 'not json' })).toBeNull();
    expect(requiredAcr({ claims: 'null' })).toBeNull();
    // acr_values wins over the claims parameter (oidc-provider does the same).
    expect(requiredAcr({ acr_values: password, claims: claims({ essential: true, value: phishingResistant }) })).toBe(password);
  });

  it('offers only a passkey for phishing-resistant, every method otherwise', () => {
    const all: FactorMethod[] = ['webauthn', 'totp', 'recovery_code'];
    expect(methodsFor(phishingResistant, all)).toEqual(['webauthn']);
    expect(methodsFor(phishingResistant, ['totp', 'recovery_code'])).toEqual([]);
    for (const required of [null, password, mfa]) expect(methodsFor(required, all)).toEqual(all);
    expect(methodReaches('totp', phishingResistant)).toBe(false);
    expect(methodReaches('recovery_code', phishingResistant)).toBe(false);
    expect(methodReaches('webauthn', phishingResistant)).toBe(true);
    expect(methodReaches('totp', mfa)).toBe(true);
  });

  it('asserts the union of both steps with mfa, and a passkey alone as it is', () => {
    const cases: [string[], { method: FactorMethod; userVerified: boolean }, string[], string][] = [
      [['pwd'], { method: 'totp', userVerified: false }, ['pwd', 'otp', 'mfa'], mfa],
      [['pwd'], { method: 'recovery_code', userVerified: false }, ['pwd', 'otp', 'mfa'], mfa],
      [['pwd'], { method: 'webauthn', userVerified: false }, ['pwd', 'hwk', 'mfa'], phishingResistant],
      [['pwd'], { method: 'webauthn', userVerified: true }, ['pwd', 'hwk', 'user', 'mfa'], phishingResistant],
      [[], { method: 'webauthn', userVerified: true }, ['hwk', 'user'], phishingResistant],
      // A session that already passed a code steps up with a passkey: mfa once, not twice.
      [['pwd', 'otp', 'mfa'], { method: 'webauthn', userVerified: false }, ['pwd', 'otp', 'hwk', 'mfa'], phishingResistant],
    ];
    for (const [first, use, amr, acr] of cases) {
      expect(amrAfter(first, use)).toEqual(amr);
      expect(acrOf(amrAfter(first, use))).toBe(acr);
    }
  });

  it('builds the login result oidc-provider takes, with the time in seconds', () => {
    expect(loginResult('u1', ['pwd'], 1_700_000_000_999)).toEqual({ login: { accountId: 'u1', amr: ['pwd'], acr: password, ts: 1_700_000_000 } });
  });
});
