// Actor moved down into src/http (the auth plugin resolves it there), so that http and the
// modules below auth need not import auth. Re-exported for the files not yet pointed there.
export * from '../../http/actor.ts';
