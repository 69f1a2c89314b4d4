import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { get, withQuery } from '../../api/client.ts';
import { keys } from '../../api/queries.ts';
import type { Insights, InsightsSummary, Template } from '../../api/admin-types.ts';
import { BarChart } from '../../components/charts/BarChart.tsx';
import { StackedBars } from '../../components/charts/StackedBars.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { Empty, QueryView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { Time } from '../../components/Time.tsx';
import { Link, navigate, useLocation } from '../../router.tsx';
import { useAllTemplates } from './common.tsx';
import { formatPercent, formatSecs, rangeQuery } from './insights-format.ts';

interface Filters {
  from: string;
  to: string;
  template_id: string;
}

/** The filters live in the URL (/admin/insights?from=2031-03-01&to=2031-03-31&template_id=…): a view can be shared. */
function useFilters(): Filters {
  const { search } = useLocation();
  return { from: search.get('from') ?? '', to: search.get('to') ?? '', template_id: search.get('template_id') ?? '' };
}

function FilterForm({ initial, templates }: { initial: Filters; templates: Template[] }) {
  const [f, setF] = useState(initial);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const params = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ''));
    navigate(`/admin/insights${params.size ? `?${params}` : ''}`);
  };
  return (
    <form onSubmit={submit} className="panel filters-grid" aria-label="Filter the insights">
      <TextField label="From (date)" type="date" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} hint="Requests submitted from this day" />
      <TextField label="To (date)" type="date" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} hint="Up to and including this day" />
      <SelectField label="Template" value={f.template_id} onChange={(e) => setF({ ...f, template_id: e.target.value })}>
        <option value="">All templates</option>
        {templates.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </SelectField>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">
          Show
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setF({ from: '', to: '', template_id: '' });
            navigate('/admin/insights');
          }}
        >
          Last 30 days, all templates
        </button>
      </div>
    </form>
  );
}

function CsvLink({ section, label, query }: { section: string; label: string; query: Record<string, string | undefined> }) {
  return (
    <a className="btn btn-small" href={withQuery(`/api/v1/insights/${section}.csv`, query)} download aria-label={`Download ${label} as CSV`}>
      Download CSV
    </a>
  );
}

function SectionHead({ id, title, csv }: { id: string; title: string; csv: { section: string; query: Record<string, string | undefined> } }) {
  return (
    <div className="insights-section-head">
      <h2 id={id}>{title}</h2>
      <CsvLink section={csv.section} label={title.toLowerCase()} query={csv.query} />
    </div>
  );
}

function Summary({ s }: { s: InsightsSummary }) {
  const figures: [string, string][] = [
    ['Requests', String(s.requests)],
    ['Approval rate', formatPercent(s.approval_rate)],
    ['Median time to decision', formatSecs(s.decision_median_secs)],
    ['p90 time to decision', formatSecs(s.decision_p90_secs)],
    ['Escalations', String(s.escalations)],
    ['Lapsed', String(s.lapsed)],
    ['Grants', String(s.grants)],
    ['Never used', String(s.never_used)],
    ['Median time to first use', formatSecs(s.first_use_median_secs)],
  ];
  return (
    <dl className="insights-figures" aria-label="Overall figures">
      {figures.map(([label, value]) => (
        <div key={label} className="insights-figure">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

const share = (used: number, unused: number) => (used + unused === 0 ? null : used / (used + unused));

function InsightsView({ data, query }: { data: Insights; query: Record<string, string | undefined> }) {
  const csv = (section: string) => ({ section, query });
  const decided = data.templates.filter((t) => t.requests > 0);
  const granted = data.templates.filter((t) => t.grants > 0);
  return (
    <>
      <p className="muted">
        Requests submitted from <Time iso={data.from} absolute /> to <Time iso={data.to} absolute />. A last use is recorded at most once a minute per grant; an approval within{' '}
        {data.rubber_stamp_secs} s of the request becoming decidable is flagged as a rubber stamp.
      </p>
      <Summary s={data.overall} />

      <section aria-labelledby="insights-templates">
        <SectionHead id="insights-templates" title="Per template" csv={csv('templates')} />
        {decided.length === 0 ? (
          <Empty title="No requests in this range" />
        ) : (
          <>
            <BarChart
              title="Time to decision per template: median (bar) and p90 (line)"
              bars={decided.map((t) => ({ label: t.template_name, value: t.decision_median_secs, mark: t.decision_p90_secs }))}
              format={(v) => formatSecs(v)}
              markLabel="p90"
            />
            <StackedBars
              title="Granted time used before the last token, per template"
              stacks={granted.map((t) => ({ label: t.template_name, first: t.used_secs, second: t.unused_secs }))}
              firstLabel="used (until the last token)"
              secondLabel="unused"
            />
            <DataTable
              caption="Figures per template"
              columns={['Template', 'Requests', 'Approval rate', 'Median decision', 'p90 decision', 'Escalations', 'Lapsed', 'Grants', 'Never used', 'Median first use', 'Time used']}
            >
              {decided.map((t) => (
                <tr key={t.template_id}>
                  <th scope="row">
                    <Link to={`/admin/templates/${t.template_id}`}>{t.template_name}</Link>
                  </th>
                  <td>{t.requests}</td>
                  <td>{formatPercent(t.approval_rate)}</td>
                  <td>{formatSecs(t.decision_median_secs)}</td>
                  <td>{formatSecs(t.decision_p90_secs)}</td>
                  <td>{t.escalations}</td>
                  <td>{t.lapsed}</td>
                  <td>{t.grants}</td>
                  <td>{t.never_used}</td>
                  <td>{formatSecs(t.first_use_median_secs)}</td>
                  <td>{formatPercent(share(t.used_secs, t.unused_secs))}</td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </section>

      <section aria-labelledby="insights-approvers">
        <SectionHead id="insights-approvers" title="Approvers" csv={csv('approvers')} />
        {data.approvers.length === 0 ? (
          <Empty title="No decisions by people in this range" />
        ) : (
          <DataTable caption="Decisions per approver" columns={['Approver', 'Decisions', 'Approvals', 'Denials', 'Median time to decide', 'Approvals without comment', 'Rubber stamps']}>
            {data.approvers.map((a) => (
              <tr key={a.approver_id}>
                <th scope="row">{a.email ?? a.approver_id}</th>
                <td>{a.decisions}</td>
                <td>{a.approvals}</td>
                <td>{a.denials}</td>
                <td>{formatSecs(a.median_decide_secs)}</td>
                <td>{a.approvals_without_comment}</td>
                <td>{a.rubber_stamps > 0 ? <span className="badge badge-pending">⚑ {a.rubber_stamps} within {data.rubber_stamp_secs} s</span> : '0'}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>

      <section aria-labelledby="insights-grants">
        <SectionHead id="insights-grants" title="Grants" csv={csv('grants')} />
        {data.grants.length === 0 ? (
          <Empty title="No grants in this range" />
        ) : (
          <DataTable caption="Usage per grant" columns={['Request', 'Requester', 'Activated', 'First use', 'Last use', 'Time to first use', 'Time used']}>
            {data.grants.map((g) => (
              <tr key={g.request_id}>
                <th scope="row">
                  <Link to={`/requests/${g.request_id}`}>{g.template_name}</Link>
                </th>
                <td>{g.requester_email ?? g.requester_id}</td>
                <td>
                  <Time iso={g.activated_at} />
                </td>
                <td>{g.first_used_at ? <Time iso={g.first_used_at} /> : <span className="badge badge-cancelled">Never used</span>}</td>
                <td>{g.last_used_at ? <Time iso={g.last_used_at} /> : '—'}</td>
                <td>{formatSecs(g.time_to_first_use_secs)}</td>
                <td>{formatPercent(g.used_share)}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>

      <section aria-labelledby="insights-standing">
        <SectionHead id="insights-standing" title="Standing access" csv={csv('standing')} />
        <p className="muted">Permanent members of groups whose mappings give a value that a template grants only for a while.</p>
        {data.standing.length === 0 ? (
          <Empty title="No standing access" />
        ) : (
          <DataTable caption="Permanent memberships carrying values templates grant temporarily" columns={['Template', 'Claim', 'Group', 'Member']}>
            {data.standing.map((r) => (
              <tr key={`${r.template_id}-${r.claim}-${r.value}-${r.group_id}-${r.user_id}`}>
                <th scope="row">{r.template_name}</th>
                <td>
                  <code>
                    {r.claim} = {r.value}
                  </code>
                </td>
                <td>
                  <Link to={`/admin/groups/${r.group_id}`}>{r.group_name}</Link>
                </td>
                <td>{r.user_email}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </>
  );
}

/** Insights: how access is really used (docs/insights.md). */
export function InsightsPage() {
  const filters = useFilters();
  const query = rangeQuery(filters);
  const templates = useAllTemplates();
  const insights = useQuery({ queryKey: keys.admin('insights', query), queryFn: () => get<Insights>('/insights', query) });
  return (
    <>
      <PageHeader title="Insights" lead="How access is really used: decisions, use of granted time, approvers and standing access." />
      <FilterForm key={JSON.stringify(filters)} initial={filters} templates={templates.data ?? []} />
      <QueryView query={insights} loading="Computing the insights…">
        {(data) => <InsightsView data={data} query={query} />}
      </QueryView>
    </>
  );
}
