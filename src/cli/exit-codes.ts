/** Exit codes of the client commands (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** Something went wrong: the server refused the input, could not be reached, answered an error. */
  error: 1,
  /** The command line itself is wrong: an unknown option, a bad duration. */
  usage: 2,
  /** Not signed in, or the sign-in has ended (expired, revoked, user disabled): run `interim login`. */
  notSignedIn: 3,
  /** Denied or refused: a request denied, lapsed or cancelled, a sign-in cancelled in the browser, a 403. */
  denied: 4,
  /** A decision needs a fresh second factor and it was not given in time. */
  stepUp: 5,
} as const;

/** An error that ends the command with this exit code and this one-line message. */
export class CliError extends Error {
  readonly exitCode: number;
  /** The server's problem detail, for --json output. */
  readonly problem?: Record<string, unknown>;
  constructor(exitCode: number, message: string, problem?: Record<string, unknown>) {
    super(message);
    this.exitCode = exitCode;
    this.problem = problem;
  }
}
