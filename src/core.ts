import type { Clock } from './clock.ts';
import type { Database, Db, DialectName } from './db/database.ts';
import { createAuditLog, type AuditLog } from './modules/audit/audit.log.ts';
import type { PasswordHasher } from './security/passwords.ts';

/** What every service needs: the database, the time, the audit trail and the public URL. */
export interface Core {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  audit: AuditLog;
  /** The public base URL, for links in notifications and event payloads. */
  baseUrl: string;
  /** scrypt at the configured cost, behind this process's hashing semaphore. */
  passwords: PasswordHasher;
}

export function createCore(database: Database, clock: Clock, baseUrl: string, passwords: PasswordHasher): Core {
  return { db: database.db, dialect: database.dialect, clock, audit: createAuditLog({ dialect: database.dialect, clock }), baseUrl, passwords };
}
