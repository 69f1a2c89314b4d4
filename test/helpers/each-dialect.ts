import { afterAll, beforeAll, describe } from 'vitest';
import type { DialectName } from '../../src/db/database.ts';
import { dialectsUnderTest } from './dialects.ts';
import { startTestServer, type TestServer } from './server.ts';

/**
 * Runs a suite once per dialect in DIALECTS against a real server. The callback gets a
 * getter because the server starts in beforeAll.
 */
export function describeEachDialect(title: string, body: (server: () => TestServer, dialect: DialectName) => void, env: Record<string, string> = {}): void {
  for (const dialect of dialectsUnderTest()) {
    describe(`${title} [${dialect}]`, () => {
      let server: TestServer | undefined;
      beforeAll(async () => {
        server = await startTestServer(dialect, env);
      });
      afterAll(async () => {
        await server?.close();
      });
      body(() => {
        if (!server) throw new Error('server not started');
        return server;
      }, dialect);
    });
  }
}
