export { createBackchannelLogoutSink, logoutTarget, parseLogoutTarget, type BackchannelLogoutSinkDeps } from './backchannel-logout.sink.ts';
export { createBackchannelLogoutPerformer, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TTL_SECS, type BackchannelLogoutPerformerDeps } from './backchannel-logout.performer.ts';
export { signOutSignal, userSignals } from './user-signals.ts';
