import { z } from 'zod';
import type { FieldError } from '../../http/errors.ts';

/**
 * Custom fields: extra inputs a template asks the requester for. The definitions are
 * checked here when an admin saves a template; the answers are checked by
 * validateFieldAnswers when a request is submitted. Both are pure.
 */
export const CUSTOM_FIELD_TYPES = ['text', 'dropdown', 'checkbox'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export const CUSTOM_FIELD_KEY = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_CUSTOM_FIELDS = 50;
export const MAX_DROPDOWN_OPTIONS = 50;
export const MAX_TEXT_ANSWER_LENGTH = 2000;

export interface CustomFieldDefinition {
  key: string;
  label: string;
  type: CustomFieldType;
  required: boolean;
  /** Present for dropdowns only. */
  options?: string[];
}

const hasRepeats = (values: readonly unknown[]) => new Set(values).size !== values.length;

const customFieldIn = z
  .strictObject({
    key: z.string().regex(CUSTOM_FIELD_KEY, 'must be a lowercase letter followed by up to 39 lowercase letters, digits or underscores'),
    label: z.string().trim().min(1).max(200),
    type: z.enum(CUSTOM_FIELD_TYPES),
    required: z.boolean().default(false),
    options: z.array(z.string().trim().min(1).max(200)).optional().describe('the choices of a dropdown; only for dropdowns'),
  })
  .superRefine((field, ctx) => {
    if (field.type !== 'dropdown') {
      if (field.options !== undefined) ctx.addIssue({ code: 'custom', path: ['options'], message: 'only a dropdown has options' });
      return;
    }
    const options = field.options ?? [];
    if (options.length < 1 || options.length > MAX_DROPDOWN_OPTIONS) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: `a dropdown needs 1 to ${MAX_DROPDOWN_OPTIONS} options` });
    } else if (hasRepeats(options)) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'options must not repeat' });
    }
  });

/** The custom_fields attribute of a template as an admin sends it. */
export const customFieldsIn = z
  .array(customFieldIn)
  .max(MAX_CUSTOM_FIELDS)
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    fields.forEach((field, index) => {
      if (seen.has(field.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `the key "${field.key}" is used by an earlier field` });
      seen.add(field.key);
    });
  });

export const customFieldOut = z.object({
  key: z.string(),
  label: z.string(),
  type: z.enum(CUSTOM_FIELD_TYPES),
  required: z.boolean(),
  options: z.array(z.string()).optional(),
});

/** Drops `options` from fields that are not dropdowns, so stored definitions have one shape. */
export function normalizeCustomFields(fields: readonly CustomFieldDefinition[]): CustomFieldDefinition[] {
  return fields.map(({ key, label, type, required, options }) => (type === 'dropdown' ? { key, label, type, required, options: [...(options ?? [])] } : { key, label, type, required }));
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/**
 * Checks a requester's answers against a template's field definitions and lists every
 * problem. `null` counts as "not answered". A required checkbox must be answered with
 * a boolean (either value: it records a yes or a no); a required text must not be blank.
 * `path` prefixes the field names, e.g. "fields" gives "fields.ticket".
 */
export function validateFieldAnswers(definitions: readonly CustomFieldDefinition[], answers: unknown, opts: { path?: string } = {}): FieldError[] {
  const name = (key: string) => (opts.path ? `${opts.path}.${key}` : key);
  if (answers === undefined || answers === null) answers = {};
  if (!isPlainObject(answers)) return [{ field: opts.path || 'fields', message: 'must be an object of answers by field key' }];

  const errors: FieldError[] = [];
  const known = new Set(definitions.map((d) => d.key));
  for (const key of Object.keys(answers)) {
    if (!known.has(key)) {
      const offered = definitions.length ? `; its fields are ${definitions.map((d) => d.key).join(', ')}` : '; it has no custom fields';
      errors.push({ field: name(key), message: `this template has no field "${key}"${offered}` });
    }
  }
  for (const definition of definitions) {
    const message = answerProblem(definition, Object.hasOwn(answers, definition.key) ? answers[definition.key] : undefined);
    if (message) errors.push({ field: name(definition.key), message });
  }
  return errors;
}

function answerProblem(definition: CustomFieldDefinition, value: unknown): string | undefined {
  if (value === undefined || value === null) return definition.required ? 'is required' : undefined;
  switch (definition.type) {
    case 'checkbox':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'dropdown':
      return typeof value === 'string' && (definition.options ?? []).includes(value) ? undefined : `must be one of: ${(definition.options ?? []).join(', ')}`;
    case 'text':
      if (typeof value !== 'string') return 'must be text';
      if (value.length > MAX_TEXT_ANSWER_LENGTH) return `must be at most ${MAX_TEXT_ANSWER_LENGTH} characters`;
      return definition.required && value.trim() === '' ? 'is required' : undefined;
  }
}
