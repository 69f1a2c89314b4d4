import type { ScriptEventType } from './scripts.types.ts';

/**
 * Made-up config for POST /scripts/:id/test, shaped like what a real event gives a
 * script (events/script-config.ts): every value a string, expires_at empty until
 * access is granted. Overrides replace or add keys.
 */
export function sampleScriptConfig(type: ScriptEventType, now: number, overrides: Record<string, string> = {}): Record<string, string> {
  const granted = type === 'approved' || type === 'activated' || type === 'expiring_soon' || type === 'extended' || type === 'expired' || type === 'revoked' || type === 'comment_added';
  return {
    trigger_event: type,
    event_id: '00000000-0000-7000-8000-000000000001',
    request_id: '00000000-0000-7000-8000-000000000000',
    requester_email: 'requester@example.com',
    requester_name: 'Sample Requester',
    app_name: 'Sample application',
    template_name: 'Sample template',
    duration_mins: '60',
    expires_at: granted ? new Date(now + 60 * 60_000).toISOString() : '',
    justification: 'Testing the script',
    'field.ticket': 'TICKET-123',
    ...overrides,
  };
}
