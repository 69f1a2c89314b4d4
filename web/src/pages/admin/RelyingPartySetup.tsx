import { useQuery } from '@tanstack/react-query';
import type { Application } from '../../api/admin-types.ts';
import { CopyButton } from '../../components/CopyButton.tsx';
import { endpointsOf, envSnippet, openidClientSnippet } from './rp-snippets.ts';

/** The issuer as Interim announces it in its discovery document (the portal's origin + /oidc if that cannot be read). */
function useIssuer(): string {
  const fallback = `${window.location.origin}/oidc`;
  const discovery = useQuery({
    queryKey: ['oidc-discovery'],
    queryFn: async () => {
      const res = await fetch('/oidc/.well-known/openid-configuration', { headers: { accept: 'application/json' } });
      return ((await res.json()) as { issuer?: string }).issuer ?? fallback;
    },
    staleTime: Infinity,
    retry: false,
  });
  return discovery.data ?? fallback;
}

function Snippet({ id, title, text }: { id: string; title: string; text: string }) {
  return (
    <div className="rp-snippet">
      <div className="rp-snippet-head">
        <h3 id={id}>{title}</h3>
        <CopyButton value={text} what={title.toLowerCase()} />
      </div>
      <pre aria-labelledby={id} tabIndex={0}>
        <code>{text}</code>
      </pre>
    </div>
  );
}

/** What a relying party needs to sign users in with this application: copy and paste, never the secret. */
export function RelyingPartySetup({ app }: { app: Application }) {
  const endpoints = endpointsOf(useIssuer());
  const facts: [label: string, value: string][] = [
    ['Issuer', endpoints.issuer],
    ['Discovery URL', endpoints.discoveryUrl],
    ['Client id', app.client_id],
  ];
  return (
    <section className="panel rp-setup" aria-labelledby="rp-setup-title">
      <h2 id="rp-setup-title">Connect your application</h2>
      <p className="muted small">
        Give these to the application that signs its users in with Interim (the relying party).{' '}
        {app.token_endpoint_auth_method === 'none'
          ? 'It is a public client: no secret, PKCE instead.'
          : 'The client secret is not shown again: use the one you stored when the application was created, or rotate it below.'}
      </p>
      <dl>
        {facts.map(([label, value]) => (
          <div key={label} style={{ display: 'contents' }}>
            <dt>{label}</dt>
            <dd>
              <code>{value}</code>
              <CopyButton value={value} what={label.toLowerCase()} />
            </dd>
          </div>
        ))}
      </dl>
      <Snippet id="rp-env" title="Environment variables" text={envSnippet(app, endpoints)} />
      <Snippet id="rp-code" title="openid-client example" text={openidClientSnippet(app)} />
    </section>
  );
}
