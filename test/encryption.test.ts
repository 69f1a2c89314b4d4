import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { actionSecretAt, decryptActionSecret, findLiveActionById } from '../src/modules/event-actions/event-actions.repo.ts';
import { createEncrypter, type SealedAt } from '../src/security/encryption.ts';
import { resealLegacySecrets } from '../src/security/reseal.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/** What encrypt wrote before associated data: v1, no AAD. */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

describe('AES-GCM sealing bound to its row and column', () => {
  const key = randomBytes(32);
  const encrypter = createEncrypter(key);
  const at: SealedAt = { table: 'event_actions', column: 'secret_encrypted', row: 'row-1' };

  it('opens only where it was sealed', () => {
    const sealed = encrypter.encrypt('whsec_secret', at);
    expect(sealed.startsWith('v2.')).toBe(true);
    expect(encrypter.decrypt(sealed, at)).toBe('whsec_secret');
    expect(() => encrypter.decrypt(sealed, { ...at, row: 'row-2' })).toThrow();
    expect(() => encrypter.decrypt(sealed, { ...at, column: 'other' })).toThrow();
    expect(() => encrypter.decrypt(sealed, { ...at, table: 'script_secrets' })).toThrow();
    expect(() => createEncrypter(randomBytes(32)).decrypt(sealed, at)).toThrow();
  });

  it('still opens values sealed before associated data existed', () => {
    expect(encrypter.decrypt(sealV1(key, 'legacy'), at)).toBe('legacy');
    expect(() => encrypter.decrypt('v3.a.b.c', at)).toThrow('unreadable encrypted value');
  });
});

describeEachDialect('stored secrets cannot be swapped between rows', (server) => {
  const webhook = async (name: string) => {
    const res = await server().admin.post('/api/v1/event-actions', {
      name,
      event_types: ['access_request.approved'],
      kind: 'webhook',
      config: { url: 'https://provisioner.example.com/hooks/interim' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; signing_secret: string };
  };

  it("refuses an action's secret copied into another action's row", async () => {
    const { db } = server().app.core;
    const encrypter = createEncrypter(server().config.masterKey);
    const [first, second] = [await webhook(`swap-a-${Date.now()}`), await webhook(`swap-b-${Date.now()}`)];
    const secretOf = async (id: string) => (await db.selectFrom('event_actions').select('secret_encrypted').where('id', '=', id).executeTakeFirstOrThrow()).secret_encrypted!;
    expect(decryptActionSecret(encrypter, (await findLiveActionById(db, first.id))!)).toBe(first.signing_secret);

    // Someone who can write the database but lacks the master key moves B's secret into A.
    await db.updateTable('event_actions').set({ secret_encrypted: await secretOf(second.id) }).where('id', '=', first.id).execute();
    const swapped = (await findLiveActionById(db, first.id))!;
    expect(() => decryptActionSecret(encrypter, swapped)).toThrow();
    expect(decryptActionSecret(encrypter, (await findLiveActionById(db, second.id))!)).toBe(second.signing_secret);
  });

  it('reseals legacy values at start-up, bound to their row', async () => {
    const { db } = server().app.core;
    const encrypter = createEncrypter(server().config.masterKey);
    const action = await webhook(`legacy-${Date.now()}`);
    const legacy = sealV1(server().config.masterKey, 'whsec_legacy');
    await db.updateTable('event_actions').set({ secret_encrypted: legacy }).where('id', '=', action.id).execute();
    expect(decryptActionSecret(encrypter, (await findLiveActionById(db, action.id))!)).toBe('whsec_legacy');

    expect(await resealLegacySecrets(db, encrypter)).toBeGreaterThanOrEqual(1);
    const stored = (await db.selectFrom('event_actions').select('secret_encrypted').where('id', '=', action.id).executeTakeFirstOrThrow()).secret_encrypted!;
    expect(stored.startsWith('v2.')).toBe(true);
    expect(encrypter.decrypt(stored, actionSecretAt(action.id))).toBe('whsec_legacy');
    expect(() => encrypter.decrypt(stored, actionSecretAt('another'))).toThrow();
    // Idempotent.
    expect(await resealLegacySecrets(db, encrypter)).toBe(0);
  });
});
