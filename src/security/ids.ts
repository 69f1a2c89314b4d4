import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';

// The last id made in this process: ids of one millisecond count up from it (below).
let lastMs = -1;
let last = Buffer.alloc(16);

/**
 * UUIDv7: time-ordered, so a list sorted by id is sorted by creation and an id
 * works as a pagination cursor. Within one millisecond of one process the ids still
 * increase (RFC 9562 §6.2, method 2: the random bits of the previous id plus a random
 * step), so a burst (an expiry chunk writing thousands of rows in one millisecond) appends
 * to the right edge of each index instead of touching a page all over it.
 */
export function newId(clock: Clock): string {
  const now = clock.now();
  const bytes = randomBytes(16);
  if (now === lastMs && !incremented(last, bytes)) return newId({ now: () => now + 1 });
  if (now !== lastMs) lastMs = now;
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  last = Buffer.from(bytes);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Sets `into`'s bytes 6–15 to `prev`'s plus a random step of up to 2^32 (the version and
 * variant bits skipped); false when that would overflow, which in practice never happens.
 */
function incremented(prev: Buffer, into: Buffer): boolean {
  // The 74 random bits: 12 in bytes 6–7 (below the version), 62 in bytes 8–15 (below the variant).
  let value = (BigInt(prev[6]! & 0x0f) << 70n) | (BigInt(prev[7]!) << 62n) | (BigInt(prev[8]! & 0x3f) << 56n) | prev.readBigUInt64BE(8) & 0x00ffffffffffffffn;
  value += 1n + BigInt(into.readUInt32BE(12));
  if (value >= 1n << 74n) return false;
  into[6] = Number((value >> 70n) & 0x0fn);
  into[7] = Number((value >> 62n) & 0xffn);
  into[8] = Number((value >> 56n) & 0x3fn);
  into.writeBigUInt64BE((BigInt(into[8]!) << 56n) | (value & 0x00ffffffffffffffn), 8);
  return true;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
