import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Where a sealed value is stored: table, column and the row's key. It is bound into the
 * ciphertext as AES-GCM associated data, so a value copied into another row or column
 * (by someone who can write the database but lacks the master key) no longer decrypts.
 */
export interface SealedAt {
  table: string;
  column: string;
  row: string;
}

/**
 * AES-256-GCM with the master key from config, for signing keys, cookie keys and
 * webhook, Slack and script secrets. Formats (base64url parts):
 * - v2.<iv>.<tag>.<ciphertext>, with SealedAt as associated data: what encrypt writes;
 * - v1.<iv>.<tag>.<ciphertext>, without associated data: written before v2, still read.
 *   `resealLegacy` rewrites them as v2 at start-up (see src/security/reseal.ts).
 */
export interface Encrypter {
  encrypt(plaintext: string, at: SealedAt): string;
  decrypt(sealed: string, at: SealedAt): string;
}

const associatedData = (at: SealedAt) => Buffer.from(`interim.v2\u0000${at.table}\u0000${at.column}\u0000${at.row}`, 'utf8');

export const isLegacySealed = (sealed: string): boolean => sealed.startsWith('v1.');

export function createEncrypter(masterKey: Buffer): Encrypter {
  if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes');
  return {
    encrypt(plaintext, at) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      cipher.setAAD(associatedData(at));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v2', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    decrypt(sealed, at) {
      const [version, iv, tag, body] = sealed.split('.');
      if ((version !== 'v1' && version !== 'v2') || !iv || !tag || body === undefined) throw new Error('unreadable encrypted value');
      const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
      if (version === 'v2') decipher.setAAD(associatedData(at));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
