/**
 * Table types for Kysely. Instants are epoch milliseconds; booleans are 0/1 integers
 * and JSON is text in both dialects, so rows read the same from SQLite and PostgreSQL.
 * The tables are grouped by meaning in schema/; `DB` below names every one of them.
 */
import type { AccessRequestCommentsTable, AccessRequestsTable, AccessRequestTemplatesTable, AccessRequestVotesTable, BreakGlassGrantsTable, TemplateGroupsTable, TemplateMappingsTable, TemplateStageGroupsTable, TemplateStagesTable } from './schema/access-requests.ts';
import type { DeliveriesTable, DeliveryAttemptsTable, EventActionsTable, NotificationsTable, OutboxEventsTable, RoundRobinPositionsTable, ScriptRunsTable, ScriptSecretGrantsTable, ScriptSecretsTable, ScriptsTable } from './schema/events.ts';
import type { MfaFactorsTable, MfaRecoveryCodesTable, StepUpProofsTable } from './schema/mfa.ts';
import type { SsfHeldTable, SsfPollQueueTable, SsfStreamsTable, SsfSubjectsTable } from './schema/ssf.ts';
import type { ApiTokensTable, ApplicationsTable, AuditEventsTable, AuditHeadTable, GrantUsageTable, GroupsTable, LoginThrottleTable, MappingGroupsTable, MappingsTable, MembershipsTable, OidcPayloadsTable, ResourceServerAppsTable, ResourceServersTable, SessionsTable, SettingsTable, SigningKeysTable, UsersTable } from './schema/identity.ts';

export type * from './schema/access-requests.ts';
export type * from './schema/events.ts';
export type * from './schema/flag.ts';
export type * from './schema/identity.ts';
export type * from './schema/mfa.ts';
export type * from './schema/ssf.ts';

export interface DB {
  users: UsersTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  applications: ApplicationsTable;
  mappings: MappingsTable;
  mapping_groups: MappingGroupsTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  oidc_payloads: OidcPayloadsTable;
  signing_keys: SigningKeysTable;
  settings: SettingsTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  access_request_templates: AccessRequestTemplatesTable;
  template_groups: TemplateGroupsTable;
  template_mappings: TemplateMappingsTable;
  template_stages: TemplateStagesTable;
  template_stage_groups: TemplateStageGroupsTable;
  access_requests: AccessRequestsTable;
  access_request_comments: AccessRequestCommentsTable;
  access_request_votes: AccessRequestVotesTable;
  outbox_events: OutboxEventsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  notifications: NotificationsTable;
  round_robin_positions: RoundRobinPositionsTable;
  scripts: ScriptsTable;
  script_secrets: ScriptSecretsTable;
  script_secret_grants: ScriptSecretGrantsTable;
  script_runs: ScriptRunsTable;
  event_actions: EventActionsTable;
  resource_servers: ResourceServersTable;
  resource_server_apps: ResourceServerAppsTable;
  break_glass_grants: BreakGlassGrantsTable;
  ssf_streams: SsfStreamsTable;
  ssf_subjects: SsfSubjectsTable;
  ssf_held: SsfHeldTable;
  ssf_poll_queue: SsfPollQueueTable;
  grant_usage: GrantUsageTable;
  mfa_factors: MfaFactorsTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  step_up_proofs: StepUpProofsTable;
}
