import { z } from 'zod';

/** Shared pieces of the API's zod schemas. Instants travel as RFC 3339 strings. */
export const idParam = z.object({ id: z.uuid() });
export const instant = z.iso.datetime({ offset: true });
export const toIso = (ms: number) => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null) => (ms === null ? null : toIso(ms));
export const parseInstant = (value: string) => Date.parse(value);
export const name = z.string().trim().min(1).max(200);
/** What someone typed in a search box; matched as text, never as a pattern. */
export const searchText = z.string().trim().min(1).max(200);
export const description = z.string().max(2000);
export const email = z.email().max(320).transform((v) => v.toLowerCase());
