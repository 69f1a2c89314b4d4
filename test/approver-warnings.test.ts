import { describe, expect, it } from 'vitest';
import { approverWarnings, type ApproverChoice } from '../web/src/pages/admin/approver-warnings.ts';
import { endpointsOf, envSnippet, openidClientSnippet, SECRET_PLACEHOLDER } from '../web/src/pages/admin/rp-snippets.ts';

const group = (id: string, member_count?: number) => ({ id, name: id, description: '', created_at: '', updated_at: '', member_count });
const groups = [group('staffed', 3), group('also', 1), group('empty', 0), group('unknown')];
const choice = (c: Partial<ApproverChoice>): ApproverChoice => ({
  approval: 'groups',
  approver_group_ids: [],
  escalate: false,
  escalation_group_id: '',
  notification_policy: 'all',
  notification_count: '1',
  ...c,
});

describe('the template editor’s approver warnings', () => {
  it('warns about each chosen group without active members, and about nobody notified only when every pool is empty', () => {
    expect(approverWarnings(choice({ approver_group_ids: ['empty'] }), groups)).toEqual({
      emptyGroups: [groups[2]],
      nobodyNotified: 'none of the approver groups has an active member',
      reach: null,
    });
    const mixed = approverWarnings(choice({ approver_group_ids: ['empty', 'staffed'] }), groups);
    expect(mixed.emptyGroups.map((g) => g.id)).toEqual(['empty']);
    expect(mixed.nobodyNotified).toBeNull();
    expect(mixed.reach).toBe('Notified of a new request: up to 3 people.');
    expect(approverWarnings(choice({ approver_group_ids: [] }), groups)).toEqual({ emptyGroups: [], nobodyNotified: null, reach: null });
    // Counts not known: no guess either way.
    expect(approverWarnings(choice({ approver_group_ids: ['unknown', 'empty'] }), groups).nobodyNotified).toBeNull();
  });

  it('follows the notification policy for whom it reaches', () => {
    const both = { approver_group_ids: ['staffed', 'also'] };
    expect(approverWarnings(choice({ ...both, notification_policy: 'all' }), groups).reach).toBe('Notified of a new request: up to 4 people.');
    expect(approverWarnings(choice({ ...both, notification_policy: 'first_n', notification_count: '2' }), groups).reach).toBe('Notified of a new request: up to 2 of 4 people, in a stable order.');
    expect(approverWarnings(choice({ ...both, notification_policy: 'random_n', notification_count: '9' }), groups).reach).toBe('Notified of a new request: up to 4 of 4 people, at random.');
    expect(approverWarnings(choice({ ...both, notification_policy: 'round_robin' }), groups).reach).toBe('Notified of a new request: one of up to 4 people, taking turns.');
    expect(approverWarnings(choice({ approver_group_ids: ['also'], notification_policy: 'all' }), groups).reach).toBe('Notified of a new request: up to 1 person.');
  });

  it('sends an open template to its escalation group, else to the admins', () => {
    expect(approverWarnings(choice({ approval: 'open', approver_group_ids: ['empty'] }), groups)).toEqual({ emptyGroups: [], nobodyNotified: null, reach: 'Notified of a new request: the active administrators.' });
    expect(approverWarnings(choice({ approval: 'open', escalate: true, escalation_group_id: 'empty' }), groups).nobodyNotified).toBe(
      'an open template notifies its escalation group, and it has no active member',
    );
    expect(approverWarnings(choice({ approval: 'open', escalate: true, escalation_group_id: 'staffed' }), groups).reach).toBe('Notified of a new request: up to 3 people.');
    // Escalation switched off: the group chosen before no longer counts.
    expect(approverWarnings(choice({ approval: 'open', escalate: false, escalation_group_id: 'empty' }), groups).nobodyNotified).toBeNull();
  });
});

describe('the relying-party snippets', () => {
  const endpoints = endpointsOf('https://id.example.test/oidc');
  const app: Parameters<typeof envSnippet>[0] & Parameters<typeof openidClientSnippet>[0] = {
    client_id: 'cid',
    redirect_uris: ['https://app.example.test/cb'],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
  };

  it('names the issuer, discovery URL, client and redirect URI, with a placeholder for the secret', () => {
    expect(endpoints.discoveryUrl).toBe('https://id.example.test/oidc/.well-known/openid-configuration');
    expect(envSnippet(app, endpoints)).toBe(
      ['OIDC_ISSUER=https://id.example.test/oidc', 'OIDC_CLIENT_ID=cid', `OIDC_CLIENT_SECRET='${SECRET_PLACEHOLDER}'`, 'OIDC_REDIRECT_URI=https://app.example.test/cb'].join('\n'),
    );
    expect(envSnippet({ ...app, token_endpoint_auth_method: 'none', post_logout_redirect_uris: ['https://app.example.test/bye'] }, endpoints)).toBe(
      ['OIDC_ISSUER=https://id.example.test/oidc', 'OIDC_CLIENT_ID=cid', 'OIDC_REDIRECT_URI=https://app.example.test/cb', 'OIDC_POST_LOGOUT_REDIRECT_URI=https://app.example.test/bye'].join('\n'),
    );
  });

  it('authenticates the client as it is registered, and picks the flow from its grant types', () => {
    const code = (over: Partial<typeof app>) => openidClientSnippet({ ...app, ...over });
    expect(code({})).toContain('client.ClientSecretBasic(process.env.OIDC_CLIENT_SECRET)');
    expect(code({})).toContain("scope: 'openid email profile offline_access'");
    expect(code({ token_endpoint_auth_method: 'client_secret_post' })).toContain('client.ClientSecretPost(process.env.OIDC_CLIENT_SECRET)');
    expect(code({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] })).toContain('client.None()');
    expect(code({ grant_types: ['authorization_code'] })).toContain("scope: 'openid email profile',");
    const machine = code({ grant_types: ['client_credentials'] });
    expect(machine).toContain('client.clientCredentialsGrant(config)');
    expect(machine).not.toContain('buildAuthorizationUrl');
  });
});
