/**
 * Field errors in plain words. zod describes what its validator saw ("Too small: expected
 * string to have >=1 characters", "Invalid UUID"); a person filling in a form needs to
 * hear what to do ("Enter a name", "Pick an application"). The problem handler runs every
 * zod issue through `plainMessage`; the `field` path and the status stay as they were.
 */

/** The parts of a zod issue the wording depends on (fastify-type-provider-zod's `params`). */
export interface IssueFacts {
  code: string;
  message: string;
  origin?: string;
  expected?: string;
  format?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  divisor?: number | bigint;
  values?: readonly unknown[];
  keys?: readonly string[];
}

/** How a field is asked for: typed in ("Enter a name") or chosen ("Pick an application"). */
interface Noun {
  verb: 'Enter' | 'Pick' | 'Choose';
  /** With its article: "a name", "an application". */
  one: string;
  /** For lists: what one item is ("duration" in "Choose at least one duration"). */
  item?: string;
}

const enter = (one: string): Noun => ({ verb: 'Enter', one });
const pick = (one: string): Noun => ({ verb: 'Pick', one });
const choose = (item: string): Noun => ({ verb: 'Choose', one: `at least one ${item}`, item });

/** The nouns of the API's field names (the last segment of the path, list indexes aside). */
export const FIELD_NOUNS: Readonly<Record<string, Noun>> = {
  name: enter('a name'),
  title: enter('a title'),
  description: enter('a description'),
  email: enter('an email address'),
  password: enter('a password'),
  current_password: enter('your current password'),
  new_password: enter('a new password'),
  justification: enter('a justification'),
  reason: enter('a reason'),
  comment: enter('a comment'),
  body: enter('a message'),
  claim: enter('a claim name'),
  value: enter('a value'),
  key: enter('a key'),
  label: enter('a label'),
  source: enter('the script source'),
  url: enter('a web address'),
  endpoint_url: enter('a web address'),
  redirect_uris: { verb: 'Enter', one: 'at least one redirect URI', item: 'redirect URI' },
  post_logout_redirect_uris: enter('a redirect URI'),
  allowed_hosts: enter('a host name'),
  expires_at: enter('an end date and time'),
  starts_at: enter('a start date and time'),
  app_id: pick('an application'),
  application_id: pick('an application'),
  template_id: pick('a template'),
  user_id: pick('a user'),
  group_id: pick('a group'),
  escalation_group_id: pick('a group to escalate to'),
  script_id: pick('a script'),
  mapping_id: pick('a mapping'),
  action_id: pick('an event action'),
  request_id: pick('a request'),
  duration_mins: pick('a duration'),
  notification_policy: pick('a notification policy'),
  token_endpoint_auth_method: pick('an authentication method'),
  kind: pick('a kind'),
  type: pick('a type'),
  format: pick('a format'),
  approval: pick('how requests are approved'),
  durations: choose('duration'),
  allowed_durations: choose('duration'),
  group_ids: choose('group'),
  approver_group_ids: choose('approver group'),
  requester_group_ids: choose('requester group'),
  mapping_ids: choose('mapping'),
  app_ids: choose('application'),
  script_ids: choose('script'),
  secret_ids: choose('secret'),
  event_types: choose('event type'),
  options: choose('option'),
  stages: choose('stage'),
  grant_types: choose('grant type'),
  scopes: choose('scope'),
};

/** The noun of a field path such as "stages.0.approver_group_ids.2" (its last named segment). */
export function nounOf(field: string): Noun | undefined {
  const named = field.split('.').filter((part) => !/^\d+$/.test(part));
  const last = named[named.length - 1];
  return last !== undefined && Object.hasOwn(FIELD_NOUNS, last) ? FIELD_NOUNS[last] : undefined;
}

/** "a group", "an approver group". */
const withArticle = (noun: string) => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;

/** An item of a list ("redirect_uris.2"): one value, not the whole list. */
const isListItem = (field: string) => /\.\d+$/.test(field);

/** The words to ask for a missing or empty field. */
export function requiredMessage(field: string): string {
  const noun = nounOf(field);
  if (!noun) return 'Fill in this field';
  if (noun.item && isListItem(field)) return `${noun.verb === 'Choose' ? 'Pick' : 'Enter'} ${withArticle(noun.item)}`;
  return `${noun.verb} ${noun.one}`;
}

/** zod's own wording; anything else was written by us for this field, and is kept. */
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized key|Expected|Required$)/;

const count = (n: number | bigint, one: string, many = `${one}s`) => `${n} ${Number(n) === 1 ? one : many}`;

function sizeMessage(facts: IssueFacts, field: string, bound: 'min' | 'max'): string {
  const limit = (bound === 'min' ? facts.minimum : facts.maximum) ?? 0;
  const exclusive = facts.inclusive === false;
  switch (facts.origin) {
    case 'string':
      if (bound === 'min' && Number(limit) <= 1) return requiredMessage(field);
      return `Use at ${bound === 'min' ? 'least' : 'most'} ${count(limit, 'character')}`;
    case 'array':
    case 'set': {
      const noun = nounOf(field);
      if (bound === 'min') {
        if (Number(limit) <= 1) return noun?.item ? `${noun.verb === 'Enter' ? 'Add' : 'Choose'} at least one ${noun.item}` : 'Choose at least one';
        return noun?.item ? `Choose at least ${limit} ${noun.item}s` : `Choose at least ${limit}`;
      }
      return noun?.item ? `Choose at most ${count(limit, noun.item)}` : `Use at most ${count(limit, 'item')}`;
    }
    case 'number':
    case 'int':
    case 'bigint':
      if (bound === 'min') return exclusive ? `Use a number greater than ${limit}` : `Use a number of at least ${limit}`;
      return exclusive ? `Use a number less than ${limit}` : `Use a number of at most ${limit}`;
    case 'date':
      return bound === 'min' ? 'Use a later date' : 'Use an earlier date';
    case 'file':
      return bound === 'min' ? 'The file is too small' : 'The file is too large';
    default:
      return bound === 'min' ? 'This is too short or too small' : 'This is too long or too large';
  }
}

function formatMessage(facts: IssueFacts, field: string): string {
  switch (facts.format) {
    case 'email':
      return 'Enter an email address like name@example.com';
    case 'uuid':
    case 'guid': {
      const noun = nounOf(field);
      if (noun?.verb === 'Pick') return `Pick ${noun.one}`;
      if (noun?.item) return `Pick ${withArticle(noun.item)} from the list`;
      return 'Use an id as the API returned it';
    }
    case 'url':
      return 'Enter a web address like https://example.com';
    case 'datetime':
      return 'Enter a date and time like 2026-01-31T09:00:00Z';
    case 'date':
      return 'Enter a date like 2026-01-31';
    case 'time':
      return 'Enter a time like 09:00';
    case 'regex':
      return 'Use only the characters this field allows';
    case 'starts_with':
    case 'ends_with':
    case 'includes':
      return 'Check the form of this value';
    default:
      return 'Check the form of this value';
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'Enter text',
  number: 'Enter a number',
  int: 'Enter a whole number',
  bigint: 'Enter a whole number',
  boolean: 'Choose yes or no (true or false)',
  array: 'Give a list',
  object: 'Give an object',
  date: 'Enter a date',
};

function typeMessage(facts: IssueFacts, field: string): string {
  // zod does not keep the input; its message says what it received.
  if (/received undefined$/.test(facts.message)) return requiredMessage(field);
  if (/received null$/.test(facts.message) && nounOf(field)) return requiredMessage(field);
  return TYPE_WORDS[facts.expected ?? ''] ?? 'Check the type of this value';
}

const listOf = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');

/** The plain sentence for one zod issue on one field ("name", "query.limit", "stages.0.name"). */
export function plainMessage(facts: IssueFacts, field: string): string {
  if (facts.code === 'custom') return facts.message;
  // Our own words for a field are kept, except for a list's "at least one" (.min(1, 'must list
  // at least one mapping')): an empty choice is asked for in the same words on every form.
  const asksForOne = facts.code === 'too_small' && (facts.origin === 'array' || facts.origin === 'set') && Number(facts.minimum ?? 0) <= 1;
  if (!ZOD_DEFAULT.test(facts.message) && !asksForOne) return facts.message;
  switch (facts.code) {
    case 'invalid_type':
      return typeMessage(facts, field);
    case 'too_small':
      return sizeMessage(facts, field, 'min');
    case 'too_big':
      return sizeMessage(facts, field, 'max');
    case 'invalid_format':
      return formatMessage(facts, field);
    case 'invalid_value':
      return facts.values && facts.values.length > 1 ? `Choose one of: ${listOf(facts.values)}` : facts.values?.length === 1 ? `Use ${listOf(facts.values)}` : 'Choose one of the offered values';
    case 'unrecognized_keys':
      return facts.keys?.length ? `Remove the unknown ${facts.keys.length === 1 ? 'field' : 'fields'}: ${facts.keys.join(', ')}` : 'Remove the unknown fields';
    case 'not_multiple_of':
      return `Use a multiple of ${facts.divisor ?? 1}`;
    case 'invalid_union':
      return 'Check this value: it matches none of the allowed forms';
    case 'invalid_key':
      return 'Check the names used in this object';
    case 'invalid_element':
      return 'Check the items of this list';
    default:
      return 'Check this value';
  }
}
