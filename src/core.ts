import type { Clock } from './clock.ts';
import type { Db, DialectName } from './db/database.ts';
import type { AuditLog } from './modules/audit/audit.log.ts';

/** What every service needs: the database, the time and the audit trail. */
export interface Core {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  audit: AuditLog;
}
