import { expect } from 'vitest';
import { ApiClient } from './api-client.ts';
import type { TestServer } from './server.ts';

export const PASSWORD = 'a long enough password';

export interface Person {
  id: string;
  email: string;
  client: ApiClient;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

/** Creates a user through the admin API and signs them in. */
export async function createPerson(server: TestServer, label: string, opts: { isAdmin?: boolean } = {}): Promise<Person> {
  const email = `${unique(label)}@example.test`;
  const res = await server.admin.post('/api/v1/users', { email, name: label, password: PASSWORD, is_admin: opts.isAdmin ?? false, must_change_password: false });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const client = new ApiClient(server.url);
  expect((await client.signIn(email, PASSWORD)).status).toBe(200);
  return { id: res.body.id, email, client };
}

export async function createGroup(server: TestServer, label: string, memberIds: string[] = []): Promise<string> {
  const res = await server.admin.post('/api/v1/groups', { name: unique(label) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  for (const userId of memberIds) {
    const added = await server.admin.request('PUT', `/api/v1/groups/${res.body.id}/members/${userId}`, {});
    expect(added.status).toBeLessThan(300);
  }
  return res.body.id;
}

export interface AccessSetup {
  requester: Person;
  approver: Person;
  secondApprover: Person;
  outsider: Person;
  escalationMember: Person;
  admin: Person;
  approverGroupId: string;
  escalationGroupId: string;
  appId: string;
  clientSecret: string;
  mappingId: string;
  templateId: string;
  /** Creates another template on the same application with overrides. */
  template(overrides?: Record<string, unknown>): Promise<string>;
}

/**
 * The cast of the access-request tests: a requester, two approvers in the approver
 * group, an outsider, an escalation-group member, an admin who is not an approver, and
 * an application whose mapping `role = prod-admin` a template grants.
 */
export async function setUpAccess(server: TestServer): Promise<AccessSetup> {
  const [requester, approver, secondApprover, outsider, escalationMember, admin] = await Promise.all([
    createPerson(server, 'requester'),
    createPerson(server, 'approver'),
    createPerson(server, 'approver2'),
    createPerson(server, 'outsider'),
    createPerson(server, 'manager'),
    createPerson(server, 'admin', { isAdmin: true }),
  ]);
  const approverGroupId = await createGroup(server, 'approvers', [approver.id, secondApprover.id]);
  const escalationGroupId = await createGroup(server, 'managers', [escalationMember.id]);
  const holderGroupId = await createGroup(server, 'db-admins');

  const app = await server.admin.post('/api/v1/applications', {
    name: unique('prod-db'),
    redirect_uris: ['http://127.0.0.1:9/callback'],
    first_party: true,
  });
  expect(app.status, JSON.stringify(app.body)).toBe(201);
  const mapping = await server.admin.post('/api/v1/mappings', { app_id: app.body.id, claim: 'role', value: 'prod-admin', group_ids: [holderGroupId] });
  expect(mapping.status, JSON.stringify(mapping.body)).toBe(201);

  const template = async (overrides: Record<string, unknown> = {}) => {
    const res = await server.admin.post('/api/v1/access-request-templates', {
      name: unique('prod-access'),
      description: 'Production database access for incidents',
      app_id: app.body.id,
      mapping_ids: [mapping.body.id],
      allowed_durations: [60, 240],
      approver_group_ids: [approverGroupId],
      require_justification: true,
      escalation_after_mins: 15,
      escalation_group_id: escalationGroupId,
      custom_fields: [
        { key: 'ticket', label: 'Incident ticket', type: 'text', required: true },
        { key: 'env', label: 'Environment', type: 'dropdown', required: false, options: ['prod', 'staging'] },
        { key: 'read_only', label: 'Read only', type: 'checkbox', required: false },
      ],
      ...overrides,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };

  return {
    requester,
    approver,
    secondApprover,
    outsider,
    escalationMember,
    admin,
    approverGroupId,
    escalationGroupId,
    appId: app.body.id,
    clientSecret: app.body.client_secret,
    mappingId: mapping.body.id,
    templateId: await template(),
    template,
  };
}

/** A valid submission body for the fixture template. */
export const validRequest = (templateId: string, overrides: Record<string, unknown> = {}) => ({
  template_id: templateId,
  duration_mins: 60,
  justification: 'INC-1234: replica lag in eu-west',
  fields: { ticket: 'INC-1234', env: 'prod' },
  ...overrides,
});
