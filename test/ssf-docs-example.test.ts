import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { pushStream, receiverApp, record, subjectOf } from './helpers/ssf.ts';

/** The example receiver of docs/signals.md, run as written (issuer, client id and port filled in), takes a real SET. */
describeEachDialect(
  'docs/signals.md: the example push receiver',
  (server) => {
    it('verifies and acknowledges a SET, and refuses a push without its secret', async () => {
      const s = server();
      const doc = await readFile(fileURLToPath(new URL('../docs/signals.md', import.meta.url)), 'utf8');
      const code = /```js\n([\s\S]*?)```/.exec(doc)![1]!;
      const r = await receiverApp(s);
      const port = await freePort();
      const program = code
        .replace("'https://interim.example.com/oidc'", `'${s.url}/oidc'`)
        .replace("'your-client-id'", `'${r.app.id}'`)
        .replace('.listen(8080)', `.listen(${port}, '127.0.0.1', () => console.log('listening'))`);
      const file = fileURLToPath(new URL(`./.ssf-example-${process.pid}-${port}.mjs`, import.meta.url));
      await writeFile(file, program);
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      try {
        await expect.poll(() => out, { timeout: 10_000 }).toContain('listening');
        const api = await r.api();
        const stream = await pushStream(api, { url: `http://127.0.0.1:${port}` });
        // The example checks the header the stream was created with.
        expect((await api.patch('/ssf/streams', { stream_id: stream, delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `http://127.0.0.1:${port}/`, authorization_header: 'Bearer a-secret-the-receiver-checks' } })).status).toBe(200);
        const user = await subjectOf(s, r.app.id, 'docs');
        expect((await api.post('/ssf/subjects/add', { stream_id: stream, subject: { format: 'email', email: user.email } })).status).toBe(204);
        await record(s, [{ type: 'account_disabled', userId: user.userId, reason: 'disabled', initiator: 'admin' }]);
        await s.app.runWorkerOnce();
        await expect.poll(() => out, { timeout: 10_000 }).toContain('account-disabled');
        const deliveries = await s.admin.get('/api/v1/deliveries?channel=ssf&status=succeeded&limit=100');
        expect(deliveries.body.items.some((d: { target: string }) => d.target === `ssf:${stream}`)).toBe(true);
        const refused = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' });
        expect(refused.status).toBe(401);
      } finally {
        child.kill();
        await rm(file, { force: true });
      }
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
