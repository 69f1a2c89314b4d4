import { z } from 'zod';
import { AppError } from '../../http/errors.ts';

/**
 * Optimistic concurrency for template edits. A template's ETag is its `version` as a
 * strong entity tag (version 7 ↔ `"7"`): the version already changes on every edit and
 * only then, so a client that read version 7 can ask PATCH to apply its change only if
 * nobody changed the template since (`If-Match: "7"`). Two editors, say the portal and a
 * Terraform apply, then cannot silently overwrite each other.
 */
export const etagOf = (version: number): string => `"${version}"`;

const STRONG_TAG = '"[1-9][0-9]{0,14}"';
const IF_MATCH = new RegExp(`^\\s*(\\*|${STRONG_TAG}(\\s*,\\s*${STRONG_TAG})*)\\s*$`);

/** The If-Match request header of PATCH: `*`, or one or more ETags as GET returned them. */
export const ifMatchHeader = z
  .string()
  .regex(IF_MATCH, 'must be * or the template\'s ETag as GET returned it, quotes included (e.g. "3"); weak tags (W/"3") cannot be used with If-Match')
  .optional()
  .describe('apply the change only if the template is still at this ETag ("<version>"); otherwise 412 version_mismatch. Left out: the change applies to whatever is stored');

/** What the caller expects the stored version to be: any (no header, or `*`) or one of a list. */
export type ExpectedVersion = { kind: 'any' } | { kind: 'one_of'; versions: number[] };

/** Reads a header that ifMatchHeader has already accepted. */
export function parseIfMatch(header: string | undefined): ExpectedVersion {
  if (header === undefined || header.trim() === '*') return { kind: 'any' };
  return { kind: 'one_of', versions: header.split(',').map((tag) => Number(tag.trim().slice(1, -1))) };
}

/** 412 when the stored version is not one the caller read: its message names both, so the fix is obvious. */
export function assertVersionMatches(expected: ExpectedVersion, current: number): void {
  if (expected.kind === 'any' || expected.versions.includes(current)) return;
  const named = expected.versions.map(etagOf).join(', ');
  throw new AppError(
    412,
    'version_mismatch',
    `the template changed since you read it: it is now at version ${current} (ETag ${etagOf(current)}), but If-Match names ${named}; read it again and re-apply your change`,
    { current_version: current },
  );
}
