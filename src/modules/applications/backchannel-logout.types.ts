import { z } from 'zod';
import { backchannelLogoutUriShapeProblem } from './backchannel-logout.rules.ts';

const uri = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    const problem = backchannelLogoutUriShapeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  })
  .nullable()
  .describe('OpenID Connect Back-Channel Logout 1.0: where Interim POSTs a logout token when a session of this application ends; null for none. https to a public host (plain http and private hosts only where INTERIM_OUTBOUND_ALLOW_PRIVATE is set)');
const sessionRequired = z.boolean().describe('every logout token carries the `sid` of the ended session (and ID tokens carry `sid`)');

/** The applications API's back-channel logout fields (issue 13 §1), spread into its schemas. */
export const backchannelLogoutUri = {
  settings: { backchannel_logout_uri: uri, backchannel_logout_session_required: sessionRequired },
  defaults: { backchannel_logout_uri: uri.default(null), backchannel_logout_session_required: sessionRequired.default(false) },
  out: { backchannel_logout_uri: z.string().nullable(), backchannel_logout_session_required: z.boolean() },
};
