/**
 * Stops gracefully on SIGINT or SIGTERM, then exits 0 (1 when stopping failed). npm forwards
 * Ctrl-C to a script that already got it from the terminal: a repeated signal must not cut
 * the graceful stop short. Returns whether a stop has begun.
 */
export function stopOnSignal(stop: () => Promise<void>, report: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): () => boolean {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        report(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => stopping;
}
