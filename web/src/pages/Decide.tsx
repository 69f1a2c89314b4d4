import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../api/client.ts';
import type { AccessRequest } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { FormError } from '../components/Field.tsx';
import { RequestFacts } from '../components/RequestBits.tsx';
import { ErrorMessage, Loading } from '../components/Status.tsx';
import { StepUpForm, type StepUpBinding } from '../components/StepUp.tsx';
import { Time } from '../components/Time.tsx';
import { Link } from '../router.tsx';

/** GET /api/v1/decision-links/:token: what the link will decide. */
interface DecisionLinkView {
  decision: 'approve' | 'deny' | 'revoke';
  stage: number | null;
  comment: string | null;
  expires_at: string;
  request: AccessRequest;
  step_up: { required: boolean; has_factor: boolean; max_age_minutes: number | null; binding: StepUpBinding };
}

const VERB = { approve: 'Approve', deny: 'Deny', revoke: 'Revoke' } as const;
const DONE = { approve: 'approved', deny: 'denied', revoke: 'revoked' } as const;

/** Why a link cannot be used, in words (the API's 410/403/404 on the link). */
function LinkProblem({ error }: { error: unknown }) {
  const code = error instanceof ApiError ? error.code : '';
  const title =
    code === 'link_used'
      ? 'This link was already used'
      : code === 'link_expired'
        ? 'This link has expired'
        : code === 'link_not_found'
          ? 'This link does not exist'
          : error instanceof ApiError && error.status === 403 && code === 'forbidden'
            ? 'This link is for someone else'
            : 'This decision cannot be made here';
  return (
    <>
      <PageHeader title={title} />
      <ErrorMessage error={error} title={title} />
      <p>
        Decision links work once, for 10 minutes, for the person they were made for. Ask for a new one in Slack or the terminal, or decide in <Link to="/inbox">your inbox</Link>.
      </p>
    </>
  );
}

/**
 * The one-time decision page (issue 15) that Slack and the CLI send approvers to: it shows
 * what will be decided and makes the decision only when the user presses the button (a GET
 * never decides), after the second-factor check the template asks for (always offered to
 * a user who has a factor).
 */
export function DecidePage({ token }: { token: string }) {
  const client = useQueryClient();
  const link = useQuery({ queryKey: ['decision-link', token], queryFn: () => get<DecisionLinkView>(`/decision-links/${token}`), retry: false, refetchOnWindowFocus: false });
  const complete = useMutation({
    mutationFn: (proof: string | undefined) => post<AccessRequest>(`/decision-links/${token}/complete`, proof ? { step_up: proof } : {}),
    onSuccess: () => client.invalidateQueries({ queryKey: ['requests'] }),
  });

  if (link.isPending) return <Loading label="Loading the decision…" />;
  if (link.isError) return <LinkProblem error={link.error} />;
  const view = link.data;
  const verb = VERB[view.decision];
  const r = view.request;

  if (complete.isSuccess) {
    return (
      <>
        <PageHeader title={`Request ${DONE[view.decision]}`} />
        <p role="status">
          You {DONE[view.decision]} {r.requester.name || r.requester.email}’s request for {r.template_name}. <Link to={`/requests/${r.id}`}>Open the request</Link>.
        </p>
      </>
    );
  }
  const checks = view.step_up.required || view.step_up.has_factor;
  return (
    <>
      <PageHeader title={`${verb} this request?`} lead={<>This link works once and expires <Time iso={view.expires_at} />.</>} />
      <section className="panel" aria-labelledby="decide-what">
        <h2 id="decide-what">
          {r.template_name} for {r.requester.name || r.requester.email}
        </h2>
        <dl className="facts">
          <div>
            <dt>Decision</dt>
            <dd>
              <strong>{verb}</strong>
              {view.stage !== null && r.stage_count > 1 ? ` (stage ${view.stage} of ${r.stage_count})` : ''}
            </dd>
          </div>
          <div>
            <dt>Requester</dt>
            <dd>
              {r.requester.name} <span className="muted">{r.requester.email}</span>
            </dd>
          </div>
          <div className="wide">
            <dt>{view.decision === 'revoke' ? 'Reason' : 'Comment'}</dt>
            <dd className="prewrap">{view.comment || <span className="muted">none</span>}</dd>
          </div>
        </dl>
        <RequestFacts request={r} />
      </section>
      <section className="panel panel-accent" aria-labelledby="decide-confirm">
        <h2 id="decide-confirm">{checks ? 'Confirm with your second factor' : 'Confirm'}</h2>
        {view.step_up.required && !view.step_up.has_factor ? (
          <StepUpForm binding={{ ...view.step_up.binding, no_second_factor: true }} onProof={async () => undefined} />
        ) : checks ? (
          <>
            <StepUpForm binding={{ ...view.step_up.binding, max_age_minutes: view.step_up.max_age_minutes ?? undefined }} onProof={async (proof) => void (await complete.mutateAsync(proof))} busy={complete.isPending} error={complete.error} passkeyLabel={`${verb} with a passkey`} />
            {!view.step_up.required && (
              <p>
                <button type="button" className="btn" disabled={complete.isPending} onClick={() => complete.mutate(undefined)}>
                  {verb} without the check
                </button>
              </p>
            )}
          </>
        ) : (
          <>
            <FormError error={complete.error} plain />
            <button type="button" className={`btn ${view.decision === 'approve' ? 'btn-primary' : 'btn-danger'}`} disabled={complete.isPending} onClick={() => complete.mutate(undefined)}>
              {complete.isPending ? 'Working…' : verb}
            </button>
          </>
        )}
      </section>
    </>
  );
}
