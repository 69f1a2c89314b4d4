import { expect } from 'vitest';
import { ApiClient } from './api-client.ts';

export interface WebhookScenario {
  admin: ApiClient;
  /** The submitted request's id. */
  requestId: string;
  /** The webhook event action, as created (its `signing_secret` included). */
  action: { id: string; signing_secret: string };
}

/**
 * Through the API of a running instance: a user, an application with one mapping, an open
 * template for it and a webhook event action on `access_request.submitted` to `webhookUrl`;
 * then the user signs in and submits one request, so exactly one webhook delivery is due.
 */
export async function submitWithWebhook(baseUrl: string, adminToken: string, webhookUrl: string, label: string): Promise<WebhookScenario> {
  const admin = new ApiClient(baseUrl).withToken(adminToken);
  const email = `${label}@example.test`;
  const password = 'a long enough password';
  const user = await admin.post('/api/v1/users', { email, name: label, password, must_change_password: false });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  const app = await admin.post('/api/v1/applications', { name: `${label} app`, redirect_uris: ['https://app.example.test/cb'] });
  const group = await admin.post('/api/v1/groups', { name: `${label} holders` });
  const mapping = await admin.post('/api/v1/mappings', { app_id: app.body.id, claim: 'role', value: 'x', group_ids: [group.body.id] });
  const template = await admin.post('/api/v1/access-request-templates', {
    name: `${label} test`,
    app_id: app.body.id,
    mapping_ids: [mapping.body.id],
    allowed_durations: [60],
    require_justification: false,
    approval: 'open',
  });
  expect(template.status, JSON.stringify(template.body)).toBe(201);
  const action = await admin.post('/api/v1/event-actions', { name: 'hook', event_types: ['access_request.submitted'], kind: 'webhook', config: { url: webhookUrl } });
  expect(action.status, JSON.stringify(action.body)).toBe(201);
  const requester = new ApiClient(baseUrl);
  expect((await requester.signIn(email, password)).status).toBe(200);
  const submitted = await requester.post('/api/v1/access-requests', { template_id: template.body.id, duration_mins: 60 });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return { admin, requestId: submitted.body.id, action: action.body };
}
