import type { TestProject } from 'vitest/node';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.ts';
import { dialectsUnderTest } from './dialects.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

let cluster: PostgresCluster | undefined;

/** One PostgreSQL cluster for the whole run; each test file makes its own database in it. */
export async function setup(project: TestProject): Promise<void> {
  if (dialectsUnderTest().includes('postgres')) {
    cluster = await startPostgresCluster();
    project.provide('pgUrl', cluster.url);
  } else {
    project.provide('pgUrl', '');
  }
}

export async function teardown(): Promise<void> {
  cluster?.stop();
}
