import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP receiver on loopback that takes requests and holds them unanswered until
 * told to answer (or never): a receiver that hangs. `answerAll` answers what is held
 * and everything after at once.
 */
export async function startStallingReceiver() {
  const paths: string[] = [];
  const held: ServerResponse[] = [];
  const state = { stalling: true };
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    if (state.stalling) held.push(res);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Paths of every request received, in order. */
    paths,
    answerAll() {
      state.stalling = false;
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    },
    stall() {
      state.stalling = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls in real time until `probe` holds (vi.waitFor would read the faked Date). */
export async function eventually(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
