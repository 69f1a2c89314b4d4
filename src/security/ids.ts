import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';

/**
 * UUIDv7: time-ordered, so a list sorted by id is sorted by creation and an id
 * works as a pagination cursor.
 */
export function newId(clock: Clock): string {
  const bytes = randomBytes(16);
  const ms = BigInt(clock.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
