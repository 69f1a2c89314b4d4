import { describe, expect, it } from 'vitest';
import { ACR, acrOf, amrOf } from '../src/modules/mfa/index.ts';
import { recoveryCodeHash } from '../src/modules/mfa/factors.service.ts';
import { enrolTotp } from './helpers/factors.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { setUpAccess } from './helpers/access-fixtures.ts';

describe('authentication method and context references', () => {
  it('names each method as RFC 8176 does and ranks the context it reaches', () => {
    expect(amrOf({ method: 'webauthn', userVerified: true })).toEqual(['hwk', 'user']);
    expect(amrOf({ method: 'webauthn', userVerified: false })).toEqual(['hwk']);
    expect(amrOf({ method: 'totp', userVerified: false })).toEqual(['otp']);
    expect(amrOf({ method: 'recovery_code', userVerified: false })).toEqual(['otp']);
    expect(acrOf(['pwd'])).toBe(ACR.password);
    expect(acrOf(['pwd', 'otp', 'mfa'])).toBe(ACR.mfa);
    expect(acrOf(['pwd', 'hwk', 'mfa'])).toBe(ACR.phishingResistant);
    expect(acrOf(['hwk', 'user'])).toBe(ACR.phishingResistant);
  });

  it('does not care about case, spaces or dashes in a recovery code', () => {
    expect(recoveryCodeHash('abcd-efgh 23')).toBe(recoveryCodeHash('ABCDEFGH23'));
    expect(recoveryCodeHash('ABCDEFGH23')).not.toBe(recoveryCodeHash('ABCDEFGH24'));
  });
});

describeEachDialect('checking a second factor', (server) => {
  it('accepts a TOTP code once, its neighbour step once, and never an earlier or malformed one', async () => {
    const { requester } = await setUpAccess(server());
    const factors = server().app.services.secondFactors;
    const db = server().app.core.db;
    expect(await factors.hasFactor(db, requester.id)).toBe(false);
    const totp = await enrolTotp(server(), requester.id);
    expect(await factors.methodsOf(db, requester.id)).toEqual(['totp', 'recovery_code']);
    expect(await factors.verify(db, requester.id, { totp: 'abcdef' }, null)).toBeNull();
    const used = await factors.verify(db, requester.id, { totp: totp.code() }, null);
    expect(used).toMatchObject({ userId: requester.id, factorId: totp.factorId, method: 'totp' });
    expect(await factors.verify(db, requester.id, { totp: totp.code() }, null)).toBeNull();
    expect(await factors.verify(db, requester.id, { totp: totp.code(-1) }, null)).toBeNull();
    expect(await factors.verify(db, requester.id, { totp: totp.code(1) }, null)).not.toBeNull();
  });

  it('spends one code once when the same code is sent twice at the same time', async () => {
    const { approver } = await setUpAccess(server());
    const totp = await enrolTotp(server(), approver.id);
    const { db } = server().app.core;
    const factors = server().app.services.secondFactors;
    const code = totp.code();
    const results = await Promise.all([1, 2, 3].map(() => db.transaction().execute((trx) => factors.verify(trx, approver.id, { totp: code }, null))));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });
});
