import { describe, expect, it } from 'vitest';
import { customFieldsIn, validateFieldAnswers, type CustomFieldDefinition } from '../src/modules/templates/custom-fields.ts';
import { approvalErrors, crossAttributeErrors } from '../src/modules/templates/template-rules.ts';
import type { TemplateSettings } from '../src/modules/templates/templates.types.ts';

const text = (key: string, required = false): CustomFieldDefinition => ({ key, label: key, type: 'text', required });
const checkbox = (key: string, required = false): CustomFieldDefinition => ({ key, label: key, type: 'checkbox', required });
const dropdown = (key: string, options: string[], required = false): CustomFieldDefinition => ({ key, label: key, type: 'dropdown', required, options });

describe('validateFieldAnswers', () => {
  const definitions = [text('ticket', true), text('notes'), dropdown('env', ['staging', 'production'], true), dropdown('region', ['eu', 'us']), checkbox('on_call', true), checkbox('pager')];
  const valid = { ticket: 'INC-1', env: 'production', on_call: false };

  const cases: [string, unknown, { field: string; message: RegExp }[]][] = [
    ['all required answered', valid, []],
    ['every field answered', { ...valid, notes: 'n', region: 'eu', pager: true }, []],
    ['optional answers null', { ...valid, notes: null, region: null, pager: null }, []],
    ['optional text blank', { ...valid, notes: '   ' }, []],
    ['text of exactly 2000 characters', { ...valid, notes: 'x'.repeat(2000) }, []],
    ['required checkbox answered true', { ...valid, on_call: true }, []],
    ['unknown key', { ...valid, extra: 'x' }, [{ field: 'extra', message: /no field "extra"; its fields are ticket, notes, env/ }]],
    ['required text missing', { env: 'production', on_call: true }, [{ field: 'ticket', message: /required/ }]],
    ['required text null', { ...valid, ticket: null }, [{ field: 'ticket', message: /required/ }]],
    ['required text blank', { ...valid, ticket: ' \t\n' }, [{ field: 'ticket', message: /required/ }]],
    ['required text empty', { ...valid, ticket: '' }, [{ field: 'ticket', message: /required/ }]],
    ['text not a string', { ...valid, notes: 42 }, [{ field: 'notes', message: /text/ }]],
    ['text too long', { ...valid, notes: 'x'.repeat(2001) }, [{ field: 'notes', message: /2000/ }]],
    ['required text too long', { ...valid, ticket: 'x'.repeat(2001) }, [{ field: 'ticket', message: /2000/ }]],
    ['required dropdown missing', { ticket: 'a', on_call: true }, [{ field: 'env', message: /required/ }]],
    ['dropdown value not an option', { ...valid, env: 'prod' }, [{ field: 'env', message: /staging, production/ }]],
    ['dropdown option in another case', { ...valid, region: 'EU' }, [{ field: 'region', message: /one of/ }]],
    ['dropdown value not a string', { ...valid, region: ['eu'] }, [{ field: 'region', message: /one of/ }]],
    ['required checkbox missing', { ticket: 'a', env: 'staging' }, [{ field: 'on_call', message: /required/ }]],
    ['checkbox given as a string', { ...valid, pager: 'true' }, [{ field: 'pager', message: /true or false/ }]],
    ['checkbox given as a number', { ...valid, on_call: 1 }, [{ field: 'on_call', message: /true or false/ }]],
    [
      'several problems at once',
      { notes: 7, region: 'asia', surprise: true },
      [
        { field: 'surprise', message: /no field "surprise"/ },
        { field: 'ticket', message: /required/ },
        { field: 'notes', message: /text/ },
        { field: 'env', message: /required/ },
        { field: 'region', message: /one of/ },
        { field: 'on_call', message: /required/ },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, answers, expected) => {
    const errors = validateFieldAnswers(definitions, answers);
    expect(errors.map((e) => e.field)).toEqual(expected.map((e) => e.field));
    errors.forEach((e, i) => expect(e.message).toMatch(expected[i]!.message));
  });

  it.each([
    ['an array', ['ticket']],
    ['a string', 'ticket=1'],
    ['a number', 3],
  ])('refuses answers that are %s', (_name, answers) => {
    expect(validateFieldAnswers(definitions, answers)).toEqual([{ field: 'fields', message: expect.stringMatching(/object/) }]);
  });

  it('takes missing answers as none: fine without required fields, not with them', () => {
    expect(validateFieldAnswers([text('notes'), checkbox('pager')], undefined)).toEqual([]);
    expect(validateFieldAnswers([], null)).toEqual([]);
    expect(validateFieldAnswers([text('ticket', true)], undefined).map((e) => e.field)).toEqual(['ticket']);
  });

  it('prefixes field names with the given path', () => {
    expect(validateFieldAnswers([text('ticket', true)], { x: 1 }, { path: 'fields' }).map((e) => e.field)).toEqual(['fields.x', 'fields.ticket']);
    expect(validateFieldAnswers([], 'nope', { path: 'answers' })).toEqual([{ field: 'answers', message: expect.any(String) }]);
  });

  it('does not take inherited properties for answers', () => {
    const answers = Object.create({ ticket: 'inherited' }) as Record<string, unknown>;
    expect(validateFieldAnswers([text('ticket', true)], answers).map((e) => e.field)).toEqual(['fields']);
    expect(validateFieldAnswers([text('toString', false)], {})).toEqual([]);
  });
});

describe('custom field definitions', () => {
  const paths = (input: unknown) => {
    const result = customFieldsIn.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
  };

  it('accepts each type and defaults required to false', () => {
    const parsed = customFieldsIn.parse([
      { key: 'ticket', label: 'Ticket', type: 'text', required: true },
      { key: 'env', label: ' Environment ', type: 'dropdown', options: ['staging', 'production'] },
      { key: 'ack_9', label: 'I have read the runbook', type: 'checkbox' },
    ]);
    expect(parsed.map((f) => f.required)).toEqual([true, false, false]);
    expect(parsed[1]!.label).toBe('Environment');
  });

  it.each([
    ['a key starting with a digit', [{ key: '1ticket', label: 'x', type: 'text' }], ['0.key']],
    ['a key with capitals', [{ key: 'Ticket', label: 'x', type: 'text' }], ['0.key']],
    ['a key with a dash', [{ key: 'tick-et', label: 'x', type: 'text' }], ['0.key']],
    ['a key of 41 characters', [{ key: 'a'.repeat(41), label: 'x', type: 'text' }], ['0.key']],
    ['a repeated key', [{ key: 'a', label: 'x', type: 'text' }, { key: 'a', label: 'y', type: 'checkbox' }], ['1.key']],
    ['a blank label', [{ key: 'a', label: '  ', type: 'text' }], ['0.label']],
    ['a label of 201 characters', [{ key: 'a', label: 'x'.repeat(201), type: 'text' }], ['0.label']],
    ['an unknown type', [{ key: 'a', label: 'x', type: 'radio' }], ['0.type']],
    ['a dropdown without options', [{ key: 'a', label: 'x', type: 'dropdown' }], ['0.options']],
    ['a dropdown with no options', [{ key: 'a', label: 'x', type: 'dropdown', options: [] }], ['0.options']],
    ['a dropdown with 51 options', [{ key: 'a', label: 'x', type: 'dropdown', options: Array.from({ length: 51 }, (_, i) => `o${i}`) }], ['0.options']],
    ['a dropdown repeating an option', [{ key: 'a', label: 'x', type: 'dropdown', options: ['eu', 'eu'] }], ['0.options']],
    ['options on a text field', [{ key: 'a', label: 'x', type: 'text', options: ['eu'] }], ['0.options']],
    ['options on a checkbox', [{ key: 'a', label: 'x', type: 'checkbox', options: [] }], ['0.options']],
    ['an unknown attribute', [{ key: 'a', label: 'x', type: 'text', hint: 'h' }], ['0']],
    ['51 fields', Array.from({ length: 51 }, (_, i) => ({ key: `f${i}`, label: 'x', type: 'text' })), ['']],
  ])('rejects %s', (_name, input, expected) => {
    expect(paths(input)).toEqual(expected);
  });

  it('accepts a key of 40 characters and 50 dropdown options', () => {
    expect(paths([{ key: 'a'.repeat(40), label: 'x', type: 'dropdown', options: Array.from({ length: 50 }, (_, i) => `o${i}`) }])).toEqual([]);
  });
});

describe('rules across template attributes', () => {
  const base: TemplateSettings = {
    name: 't',
    description: '',
    enabled: true,
    app_id: 'a',
    mapping_ids: ['m'],
    allowed_durations: [60],
    approver_group_ids: [],
    requester_group_ids: [],
    require_justification: true,
    auto_approve: false,
    notification_policy: 'all',
    notification_count: 1,
    escalation_after_mins: null,
    escalation_group_id: null,
    custom_fields: [],
    trigger: null,
    pending_ttl_mins: null,
    break_glass: false,
    break_glass_max_mins: null,
    break_glass_review_mins: null,
    stages: [{ approval: 'open', approver_group_ids: [], quorum: 1, escalation_after_mins: null, escalation_group_id: null }],
    allow_extension: false,
    extension_requires_approval: true,
    max_total_mins: null,
    max_start_delay_mins: null,
    allow_bulk_decisions: false,
    step_up_minutes: null,
  };

  it.each<[string, Partial<TemplateSettings>, string[]]>([
    ['the defaults', {}, []],
    ['auto-approval for listed requesters', { auto_approve: true, requester_group_ids: ['g'] }, []],
    ['auto-approval for everyone', { auto_approve: true }, ['auto_approve']],
    ['escalation with both attributes', { escalation_after_mins: 15, escalation_group_id: 'g' }, []],
    ['escalation without a group', { escalation_after_mins: 15 }, ['escalation_group_id']],
    ['an escalation group without a delay', { escalation_group_id: 'g' }, ['escalation_after_mins']],
    ['an escalation group that also approves', { escalation_after_mins: 5, escalation_group_id: 'g', approver_group_ids: ['g'] }, []],
    ['extension with approval', { allow_extension: true, max_total_mins: 120 }, []],
    ['extension without approval on an auto-approve template', { allow_extension: true, extension_requires_approval: false, auto_approve: true, requester_group_ids: ['g'] }, []],
    ['extension without approval elsewhere', { allow_extension: true, extension_requires_approval: false }, ['extension_requires_approval']],
    ['a total shorter than the longest duration', { allow_extension: true, max_total_mins: 30 }, ['max_total_mins']],
  ])('%s', (_name, change, fields) => {
    expect(crossAttributeErrors({ ...base, ...change }).map((e) => e.field)).toEqual(fields);
  });
});

describe('the approval choice', () => {
  it.each<[string, Parameters<typeof approvalErrors>, string[]]>([
    ['groups named, no choice given', [undefined, ['g']], []],
    ['groups named and chosen', ['groups', ['g']], []],
    ['open chosen with no groups', ['open', []], []],
    ['nothing at all on create', [undefined, []], ['approver_group_ids']],
    ['groups chosen with none named', ['groups', []], ['approver_group_ids']],
    ['open chosen with groups named', ['open', ['g']], ['approver_group_ids']],
    ['an open template left alone', [undefined, [], 'open'], []],
    ['a groups template emptied without saying open', [undefined, [], 'groups'], ['approver_group_ids']],
    ['an open template given groups', [undefined, ['g'], 'open'], []],
  ])('%s', (_name, args, fields) => {
    expect(approvalErrors(...args).map((e) => e.field)).toEqual(fields);
  });
});
