import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { repoRoot } from './helpers/interim-process.ts';

/**
 * The benchmarks are not run by `npm test`, so an API change can break one unnoticed (one
 * did in the hardening work). These run each at a tiny size and check that it finishes and
 * reports what it verified; they assert no speed (that is what bench/ is for).
 */
function bench(args: string[]): unknown {
  const run = spawnSync(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'bench/main.ts', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

describe('benchmarks at a tiny size', () => {
  it.each(dialectsUnderTest())('expiry clears every grant on %s', (dialect) => {
    expect(bench(['expiry', '--grants', '20', '--dialect', dialect])).toEqual([expect.objectContaining({ dialect, grants: 20, expired: 20, verified: true })]);
  }, 120_000);

  it.runIf(dialectsUnderTest().includes('postgres'))('expiry with two instances on PostgreSQL clears every grant once', () => {
    expect(bench(['expiry', '--grants', '20', '--dialect', 'postgres', '--instances', '2'])).toEqual([
      expect.objectContaining({ dialect: 'postgres', instances: 2, grants: 20, expired: 20, verified: true }),
    ]);
  }, 120_000);

  it('expiry with token load serves every refresh grant during the burst and without one', () => {
    const [run] = bench(['expiry', '--token-load', '--grants', '20', '--connections', '2', '--duration', '1']) as [{ tokenLoad: { burst: { failed: number }; quiet: { requests: number; failed: number } } }];
    expect(run).toEqual(expect.objectContaining({ dialect: 'sqlite', grants: 20, expired: 20, verified: true }));
    expect(run.tokenLoad.quiet.requests).toBeGreaterThan(0);
    expect(run.tokenLoad.burst.failed + run.tokenLoad.quiet.failed).toBe(0);
  }, 120_000);

  it('signals: every expiring and revoked grant reaches the receiver as a SET, every revocation as a logout token', () => {
    type L = { count: number; missing: number };
    const { runs } = bench(['signals', '--grants', '10', '--revokes', '3', '--token-users', '2']) as { runs: { expiry: { refused: L; set: L }; revoke: { refused: L; set: L; logout: L } }[] };
    expect(runs).toHaveLength(1);
    const [run] = runs;
    for (const l of [run!.expiry.refused, run!.expiry.set, run!.revoke.refused, run!.revoke.set, run!.revoke.logout]) expect(l.missing).toBe(0);
    expect(run!.expiry.set.count).toBe(10);
    expect(run!.revoke.logout.count).toBe(3);
  }, 120_000);

  it('submissions are all auto-approved through the HTTP API', () => {
    expect(bench(['submissions', '--duration', '1', '--requesters', '20', '--connections', '2'])).toEqual([expect.objectContaining({ dialect: 'sqlite', instances: 1, failures: 0 })]);
  }, 120_000);

  it('expiry-backlog expires every grant behind its delivery backlog', () => {
    expect(bench(['expiry-backlog', '--requests', '8', '--grants', '2', '--delay', '200'])).toMatchObject({ dialect: 'sqlite', grants: 2, expired: 2, verified: true });
  }, 120_000);
});
