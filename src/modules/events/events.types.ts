/** How a trigger task's run ended (the scripts module records the run). */
export interface TriggerOutcome {
  status: 'succeeded' | 'failed' | 'timed_out';
  error: string | null;
  id?: string;
}

/**
 * Runs a trigger task now and records the run: the scripts module's runScript, wired in the
 * composition root. The dispatcher's trigger performer calls it after commit; the requests
 * module calls it before a blocking approval commits.
 */
export type TriggerRunner = (
  scriptId: string,
  run: { eventId: string | null; requestId: string; triggerEvent: string; config: Record<string, string>; onStart?: () => void },
) => Promise<TriggerOutcome>;
