import { randomInt } from 'node:crypto';

/** 32 symbols without look-alikes (no 0/O, 1/I): 5 bits each. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** 12 symbols: 60 bits, far above what can be guessed through the sign-in throttle. */
const LENGTH = 12;
export const RECOVERY_CODE_COUNT = 10;

/** One code as shown to the user, in groups of four: "K7QM-2XHD-9PWA". Dashes and case do not matter when typed (normaliseRecoveryCode). */
export function newRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code.match(/.{4}/g)!.join('-');
}
