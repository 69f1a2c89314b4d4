import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FIELD_NOUNS, nounOf, plainMessage, requiredMessage, type IssueFacts } from '../src/http/plain-messages.ts';

/** The facts of the first zod issue of `value` against `schema`, as the problem handler sees them. */
function factsOf(schema: z.ZodType, value: unknown): IssueFacts {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a failure');
  const { path: _path, ...issue } = result.error.issues[0]!;
  return issue as unknown as IssueFacts;
}

const plain = (schema: z.ZodType, value: unknown, field: string) => plainMessage(factsOf(schema, value), field);

describe('plain field messages', () => {
  it('asks for every known field by its noun when it is missing, empty or null', () => {
    for (const [field, noun] of Object.entries(FIELD_NOUNS)) {
      const expected = `${noun.verb} ${noun.one}`;
      expect(requiredMessage(field)).toBe(expected);
      expect(plain(z.string(), undefined, field)).toBe(expected);
      expect(plain(z.string(), null, field)).toBe(expected);
      expect(plain(z.string().trim().min(1), '  ', field)).toBe(expected);
      expect(expected).toMatch(/^(Enter|Pick|Choose) (a|an|at least one|your|the|how) /);
    }
  });

  it('says the issue names of the examples in words', () => {
    expect(plain(z.string().trim().min(1).max(200), '', 'name')).toBe('Enter a name');
    expect(plain(z.uuid(), 'nope', 'app_id')).toBe('Pick an application');
    expect(plain(z.uuid(), undefined, 'application_id')).toBe('Pick an application');
    expect(plain(z.email(), 'not-an-email', 'email')).toBe('Enter an email address like name@example.com');
    expect(plain(z.string().max(200), 'x'.repeat(201), 'name')).toBe('Use at most 200 characters');
    expect(plain(z.array(z.number()).min(1), [], 'durations')).toBe('Choose at least one duration');
  });

  it('names the field by its last named segment, list indexes aside', () => {
    expect(nounOf('stages.0.approver_group_ids')?.item).toBe('approver group');
    expect(nounOf('fields.ticket')).toBeUndefined();
    expect(nounOf('query.limit')).toBeUndefined();
    expect(nounOf('constructor')).toBeUndefined();
    expect(requiredMessage('stages.1.name')).toBe('Enter a name');
    expect(requiredMessage('approver_group_ids.2')).toBe('Pick an approver group');
    expect(requiredMessage('redirect_uris.0')).toBe('Enter a redirect URI');
  });

  it('gives unknown fields a generic sentence', () => {
    expect(plain(z.string(), undefined, 'mystery')).toBe('Fill in this field');
    expect(plain(z.string().min(1), '', 'body.mystery')).toBe('Fill in this field');
    expect(plain(z.array(z.string()).min(1), [], 'mystery')).toBe('Choose at least one');
    expect(plain(z.array(z.string()).min(2), [], 'mystery')).toBe('Choose at least 2');
    expect(plain(z.array(z.string()).max(2), ['a', 'b', 'c'], 'mystery')).toBe('Use at most 2 items');
    expect(plain(z.uuid(), 'x', 'mystery')).toBe('Use an id as the API returned it');
  });

  it('words every size limit', () => {
    expect(plain(z.string().min(12), 'short', 'password')).toBe('Use at least 12 characters');
    expect(plain(z.string().max(1), 'ab', 'comment')).toBe('Use at most 1 character');
    expect(plain(z.array(z.uuid()).min(1), [], 'redirect_uris')).toBe('Add at least one redirect URI');
    expect(plain(z.array(z.uuid()).min(3), [], 'group_ids')).toBe('Choose at least 3 groups');
    expect(plain(z.array(z.uuid()).max(1), ['a', 'b'], 'group_ids')).toBe('Choose at most 1 group');
    expect(plain(z.array(z.uuid()).max(5), [1, 2, 3, 4, 5, 6], 'group_ids')).toBe('Choose at most 5 groups');
    expect(plain(z.number().int().min(1), 0, 'limit')).toBe('Use a number of at least 1');
    expect(plain(z.number().max(500), 501, 'limit')).toBe('Use a number of at most 500');
    expect(plain(z.number().positive(), 0, 'x')).toBe('Use a number greater than 0');
    expect(plain(z.number().lt(10), 10, 'x')).toBe('Use a number less than 10');
    expect(plain(z.date().min(new Date(1000)), new Date(0), 'x')).toBe('Use a later date');
    expect(plain(z.date().max(new Date(0)), new Date(1000), 'x')).toBe('Use an earlier date');
    expect(plainMessage({ code: 'too_big', message: 'Too big', origin: 'file', maximum: 1 }, 'x')).toBe('The file is too large');
    expect(plainMessage({ code: 'too_small', message: 'Too small', origin: 'file', minimum: 1 }, 'x')).toBe('The file is too small');
    expect(plainMessage({ code: 'too_small', message: 'Too small', origin: 'other', minimum: 1 }, 'x')).toBe('This is too short or too small');
    expect(plainMessage({ code: 'too_big', message: 'Too big', origin: 'other', maximum: 1 }, 'x')).toBe('This is too long or too large');
  });

  it('words every format', () => {
    expect(plain(z.url(), 'nope', 'url')).toBe('Enter a web address like https://example.com');
    expect(plain(z.iso.datetime({ offset: true }), 'soon', 'expires_at')).toBe('Enter a date and time like 2026-01-31T09:00:00Z');
    expect(plain(z.iso.date(), 'x', 'x')).toBe('Enter a date like 2026-01-31');
    expect(plain(z.iso.time(), 'x', 'x')).toBe('Enter a time like 09:00');
    expect(plain(z.string().regex(/^a$/), 'b', 'x')).toBe('Use only the characters this field allows');
    expect(plain(z.string().startsWith('a'), 'b', 'x')).toBe('Check the form of this value');
    expect(plain(z.uuid(), 'x', 'group_ids.0')).toBe('Pick a group from the list');
    expect(plainMessage({ code: 'invalid_format', message: 'Invalid string', format: 'cuid' }, 'x')).toBe('Check the form of this value');
  });

  it('words wrong types, values, keys and unions', () => {
    expect(plain(z.number(), 'x', 'limit')).toBe('Enter a number');
    expect(plain(z.boolean(), 'yes', 'enabled')).toBe('Choose yes or no (true or false)');
    expect(plain(z.array(z.string()), 'x', 'scopes')).toBe('Give a list');
    expect(plain(z.object({}), 'x', 'config')).toBe('Give an object');
    expect(plain(z.string(), 5, 'name')).toBe('Enter text');
    expect(plain(z.string(), null, 'mystery')).toBe('Enter text');
    expect(plainMessage({ code: 'invalid_type', message: 'Invalid input: expected symbol, received number', expected: 'symbol' }, 'x')).toBe('Check the type of this value');
    expect(plain(z.enum(['open', 'groups']), 'x', 'approval')).toBe('Choose one of: open, groups');
    expect(plain(z.literal('x'), 'y', 'x')).toBe('Use x');
    expect(plain(z.literal(5), 6, 'x')).toBe('Use 5');
    expect(plainMessage({ code: 'invalid_value', message: 'Invalid option', values: [] }, 'x')).toBe('Choose one of the offered values');
    expect(plain(z.strictObject({}), { a: 1 }, 'body')).toBe('Remove the unknown field: a');
    expect(plain(z.strictObject({}), { a: 1, b: 2 }, 'body')).toBe('Remove the unknown fields: a, b');
    expect(plainMessage({ code: 'unrecognized_keys', message: 'Unrecognized key' }, 'body')).toBe('Remove the unknown fields');
    expect(plain(z.number().multipleOf(5), 7, 'x')).toBe('Use a multiple of 5');
    expect(plain(z.union([z.string(), z.number()]), true, 'x')).toBe('Check this value: it matches none of the allowed forms');
    expect(plainMessage({ code: 'invalid_key', message: 'Invalid key in record' }, 'x')).toBe('Check the names used in this object');
    expect(plainMessage({ code: 'invalid_element', message: 'Invalid element' }, 'x')).toBe('Check the items of this list');
    expect(plainMessage({ code: 'something_new', message: 'Invalid thing' }, 'x')).toBe('Check this value');
  });

  it('keeps the words we wrote ourselves', () => {
    expect(plain(z.string().regex(/^\d+$/, 'must be a next_cursor from an earlier page'), 'x', 'query.cursor')).toBe('must be a next_cursor from an earlier page');
    expect(plain(z.string().refine(() => false, 'must not repeat'), 'x', 'x')).toBe('must not repeat');
    expect(plainMessage({ code: 'custom', message: 'Invalid host' }, 'x')).toBe('Invalid host');
    expect(plain(z.number().max(10, 'must be at most 10 minutes'), 11, 'x')).toBe('must be at most 10 minutes');
    // ...except when they only ask for one: then every form says it the same way.
    expect(plain(z.array(z.number()).min(1, 'must offer at least one duration'), [], 'allowed_durations')).toBe('Choose at least one duration');
    expect(plain(z.array(z.uuid()).min(1, 'must list at least one mapping'), [], 'mapping_ids')).toBe('Choose at least one mapping');
    expect(plain(z.number().positive('must be positive'), 0, 'x')).toBe('must be positive');
    expect(plain(z.number().int().min(1, 'must be at least 1'), 0, 'quorum')).toBe('must be at least 1');
    expect(plain(z.string().trim().min(1, 'is required: say what you checked'), ' ', 'comment')).toBe('is required: say what you checked');
  });
});
