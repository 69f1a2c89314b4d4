import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import type { Db } from './database.ts';
import * as foundation from './migrations/0001_foundation.ts';
import * as accessRequests from './migrations/0002_access_requests.ts';
import * as events from './migrations/0003_events.ts';
import * as provisioningReverted from './migrations/0004_provisioning_reverted.ts';
import * as authHardening from './migrations/0005_auth_hardening.ts';
import * as keysResources from './migrations/0006_keys_resources.ts';
import * as names from './migrations/0007_names.ts';
import * as tokenPath from './migrations/0008_token_path.ts';
import * as lapseBreakGlass from './migrations/0009_lapse_break_glass.ts';
import * as stages from './migrations/0012_stages.ts';
import * as extension from './migrations/0011_extension.ts';
import * as scheduledStart from './migrations/0010_scheduled_start.ts';
import * as ssf from './migrations/0013_ssf.ts';
import * as backchannelLogout from './migrations/0014_backchannel_logout.ts';
import * as deliveryClaim from './migrations/0015_delivery_claim.ts';
import * as userTimeZone from './migrations/0016_user_time_zone.ts';
import * as bulkDecisions from './migrations/0017_bulk_decisions.ts';
import * as grantUsage from './migrations/0018_grant_usage.ts';
import * as mfaFactors from './migrations/0019_mfa_factors.ts';
import * as stepUp from './migrations/0020_step_up.ts';

/** Migrations are listed in code, so the same set runs from source, tests and the CLI. */
const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_access_requests': accessRequests,
  '0003_events': events,
  '0004_provisioning_reverted': provisioningReverted,
  '0005_auth_hardening': authHardening,
  '0006_keys_resources': keysResources,
  '0007_names': names,
  '0008_token_path': tokenPath,
  '0009_lapse_break_glass': lapseBreakGlass,
  '0012_stages': stages,
  '0011_extension': extension,
  '0010_scheduled_start': scheduledStart,
  '0013_ssf': ssf,
  '0014_backchannel_logout': backchannelLogout,
  '0015_delivery_claim': deliveryClaim,
  '0016_user_time_zone': userTimeZone,
  '0017_bulk_decisions': bulkDecisions,
  '0018_grant_usage': grantUsage,
  '0019_mfa_factors': mfaFactors,
  '0020_step_up': stepUp,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
