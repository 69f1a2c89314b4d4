import { StepUpField, stepUpBodyOf, stepUpDraftOf } from './TemplateStepUp.tsx';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { ApiError, del, get, patch, post } from '../../api/client.ts';
import { fetchAll, keys, useAllGroups } from '../../api/queries.ts';
import type { ApprovalMode, Mapping, Template, TemplateSettings } from '../../api/admin-types.ts';
import { Checkbox, Form, FormError, onSubmitSend, SubmitButton, TextArea, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { ErrorMessage, Loading } from '../../components/Status.tsx';
import { navigate, useLocation } from '../../router.tsx';
import { DeleteButton, GroupChecklist, useAllApplications, useAllScripts } from './common.tsx';
import { CustomFieldsBuilder, fromDraft, toDraft } from './CustomFieldsBuilder.tsx';
import { LapseGlassFields, lapseGlassBodyOf, lapseGlassDraftOf } from '../../components/LapseGlassFields.tsx';
import { stagesDraftOf, StagesSection, withStages } from './StagesSection.tsx';
import { ExtensionSection } from './TemplateExtension.tsx';
import { ScheduleSection, scheduleBodyOf, scheduleDraftOf } from './TemplateSchedule.tsx';
import { BulkDecisionsField, bulkBodyOf, bulkDraftOf } from './TemplateBulkDecisions.tsx';
import { ApprovalSection, DurationsSection, EscalationSection, GrantSection, NotifySection, TriggerSection, type TemplateDraft } from './TemplateSections.tsx';

function draftOf(t: Template | null): TemplateDraft {
  return {
    name: t?.name ?? '',
    description: t?.description ?? '',
    enabled: t?.enabled ?? true,
    app_id: t?.app_id ?? '',
    mapping_ids: t?.mapping_ids ?? [],
    allowed_durations: t?.allowed_durations ?? [60, 240, 480],
    approval: t?.approval ?? 'groups',
    approver_group_ids: t?.approver_group_ids ?? [],
    requester_group_ids: t?.requester_group_ids ?? [],
    require_justification: t?.require_justification ?? true,
    auto_approve: t?.auto_approve ?? false,
    notification_policy: t?.notification_policy ?? 'all',
    notification_count: String(t?.notification_count ?? 1),
    escalate: t?.escalation_after_mins != null,
    escalation_after_mins: String(t?.escalation_after_mins ?? 30),
    escalation_group_id: t?.escalation_group_id ?? '',
    custom_fields: (t?.custom_fields ?? []).map(toDraft),
    trigger_on: t?.trigger != null,
    trigger_script_id: t?.trigger?.script_id ?? '',
    trigger_failure_mode: t?.trigger?.failure_mode ?? 'ignore',
    trigger_max_retries: String(t?.trigger?.max_retries ?? 3),
    ...lapseGlassDraftOf(t),
    ...stagesDraftOf(t),
    allow_extension: t?.allow_extension ?? false,
    extension_requires_approval: t?.extension_requires_approval ?? true,
    max_total_mins: t?.max_total_mins == null ? '' : String(t.max_total_mins),
    ...scheduleDraftOf(t),
    ...bulkDraftOf(t),
    ...stepUpDraftOf(t),
  };
}

function bodyOf(d: TemplateDraft) {
  return withStages(d, flatBodyOf(d));
}

function flatBodyOf(d: TemplateDraft): Omit<TemplateSettings, 'stages'> & { approval: ApprovalMode } {
  return {
    approval: d.approval,
    name: d.name,
    description: d.description,
    enabled: d.enabled,
    app_id: d.app_id,
    mapping_ids: d.mapping_ids,
    allowed_durations: d.allowed_durations,
    approver_group_ids: d.approval === 'open' ? [] : d.approver_group_ids,
    requester_group_ids: d.requester_group_ids,
    require_justification: d.require_justification,
    auto_approve: d.auto_approve,
    notification_policy: d.notification_policy,
    notification_count: Number(d.notification_count),
    escalation_after_mins: d.escalate ? Number(d.escalation_after_mins) : null,
    escalation_group_id: d.escalate ? d.escalation_group_id || null : null,
    custom_fields: d.custom_fields.map(fromDraft),
    trigger: d.trigger_on ? { script_id: d.trigger_script_id, failure_mode: d.trigger_failure_mode, max_retries: Number(d.trigger_max_retries) } : null,
    ...lapseGlassBodyOf(d),
    allow_extension: d.allow_extension,
    extension_requires_approval: d.extension_requires_approval,
    max_total_mins: d.max_total_mins.trim() ? Number(d.max_total_mins) : null,
    ...scheduleBodyOf(d),
    ...bulkBodyOf(d),
    ...stepUpBodyOf(d),
  };
}

function Section({ title, id, children }: { title: string; id: string; children: ReactNode }) {
  return (
    <section className="panel form-grid" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Editor({ template, created }: { template: Template | null; created: boolean }) {
  const client = useQueryClient();
  const [d, setD] = useState(() => draftOf(template));
  const [saved, setSaved] = useState(false);
  // The version the draft was loaded from: the save only applies if nobody (another admin,
  // a Terraform apply) changed the template since, instead of silently overwriting them.
  const [baseVersion, setBaseVersion] = useState(template?.version);
  const set = (p: Partial<TemplateDraft>) => setD((x) => ({ ...x, ...p }));
  const groups = useAllGroups();
  const apps = useAllApplications();
  const mappings = useQuery({ queryKey: keys.admin('mappings', 'all'), queryFn: () => fetchAll<Mapping>('/mappings') });
  const scripts = useAllScripts();
  const scriptsMissing = scripts.error instanceof ApiError && scripts.error.status === 404;

  const save = useMutation({
    mutationFn: () =>
      template
        ? patch<Template>(`/access-request-templates/${template.id}`, bodyOf(d), { 'if-match': `"${baseVersion}"` })
        : post<Template>('/access-request-templates', bodyOf(d)),
    onSuccess: async (t) => {
      setSaved(true);
      setBaseVersion(t.version);
      await client.invalidateQueries({ queryKey: keys.admin('templates') });
      await client.invalidateQueries({ queryKey: keys.requestable });
      // The page for the new template is a new page: it says it was created.
      if (!template) navigate(`/admin/templates/${t.id}?created=1`, { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/access-request-templates/${template!.id}`),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.admin('templates') });
      navigate('/admin/templates');
    },
  });
  const errorAt = (path: string) => (save.error instanceof ApiError ? save.error.fieldError(path) : undefined);

  if (groups.isPending || apps.isPending || mappings.isPending) return <Loading label="Loading groups, applications and mappings…" />;
  if (groups.isError || apps.isError || mappings.isError) return <ErrorMessage error={groups.error ?? apps.error ?? mappings.error} />;

  const submit = onSubmitSend(() => {
    setSaved(false);
    save.mutate();
  });

  return (
    <Form onSubmit={submit} noValidate className="template-editor">
      <FormError error={save.error} />
      {(saved || created) && (
        <p className="notice notice-success" role="status">
          {saved ? `Saved as version ${save.data?.version ?? template?.version}.` : `Created as version ${template?.version ?? 1}.`}
        </p>
      )}
      <Section title="Basics" id="sec-basics">
        <TextField label="Name" value={d.name} onChange={(e) => set({ name: e.target.value })} error={errorAt('name')} required />
        <TextArea label="Description" hint="Shown in the catalogue." rows={3} value={d.description} onChange={(e) => set({ description: e.target.value })} error={errorAt('description')} />
        <Checkbox label="Enabled" hint="A disabled template cannot be requested." checked={d.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
      </Section>
      <Section title="What it grants" id="sec-grant">
        <GrantSection d={d} set={set} apps={apps.data} mappings={mappings.data} errorAt={errorAt} />
        <DurationsSection d={d} set={set} errorAt={errorAt} />
        <ExtensionSection d={d} set={set} errorAt={errorAt} />
      </Section>
      <Section title="Who asks and who decides" id="sec-who">
        <StagesSection d={d} set={set} groups={groups.data} errorAt={errorAt} />
        {!d.multi && <ApprovalSection d={d} set={set} groups={groups.data} unstaffed={(save.data ?? template)?.warnings.includes('approver_groups_without_active_members') ?? false} errorAt={errorAt} />}
        <GroupChecklist label="Requester groups (none: every user may request)" groups={groups.data} selected={d.requester_group_ids} onChange={(ids) => set({ requester_group_ids: ids })} error={errorAt('requester_group_ids')} />
        <Checkbox label="Require a justification" checked={d.require_justification} onChange={(e) => set({ require_justification: e.target.checked })} />
        <Checkbox label="Approve automatically" hint="Needs requester groups: only their members get access without a decision." checked={d.auto_approve} onChange={(e) => set({ auto_approve: e.target.checked })} error={errorAt('auto_approve')} />
        <BulkDecisionsField d={d} set={set} errorAt={errorAt} />
        <StepUpField d={d} set={set} errorAt={errorAt} />
      </Section>
      <Section title="Notifications and escalation" id="sec-notify">
        <NotifySection d={d} set={set} groups={groups.data} errorAt={errorAt} />
        {!d.multi && <EscalationSection d={d} set={set} groups={groups.data} errorAt={errorAt} />}
      </Section>
      <Section title="Lapse and break-glass" id="sec-lapse-glass">
        <LapseGlassFields d={d} set={set} errorAt={errorAt} />
      </Section>
      <Section title="Custom fields" id="sec-fields">
        <CustomFieldsBuilder fields={d.custom_fields} onChange={(f) => set({ custom_fields: f })} errorAt={errorAt} />
      </Section>
      <Section title="Scheduled start" id="sec-schedule">
        <ScheduleSection d={d} set={set} errorAt={errorAt} />
      </Section>
      <Section title="Trigger task" id="sec-trigger">
        <TriggerSection d={d} set={set} scripts={scripts.data ?? []} scriptsMissing={scriptsMissing} errorAt={errorAt} />
      </Section>
      <div className="form-actions sticky-actions">
        <SubmitButton busy={save.isPending} busyLabel="Saving…">
          {template ? 'Save template' : 'Create template'}
        </SubmitButton>
        {template && <DeleteButton what={`the template ${template.name}; the grants it backs are revoked`} busy={remove.isPending} onDelete={() => remove.mutate()} />}
        <FormError error={remove.error} plain />
      </div>
    </Form>
  );
}

/** Create or edit a template: every attribute of the API, grouped by what it decides. */
export function TemplateEditorPage({ id }: { id: string | null }) {
  const template = useQuery({ queryKey: keys.admin('templates', id), queryFn: () => get<Template>(`/access-request-templates/${id}`), enabled: id !== null });
  const title = id === null ? 'New template' : (template.data?.name ?? 'Template');
  const created = useLocation().search.get('created') === '1';
  return (
    <>
      <PageHeader title={title} lead={template.data ? `Version ${template.data.version}` : 'A template says what a request grants, for how long, who may ask and who decides.'} />
      {id === null ? <Editor template={null} created={false} /> : template.isPending ? <Loading label="Loading the template…" /> : template.isError ? <ErrorMessage error={template.error} /> : <Editor key={template.data.id} template={template.data} created={created} />}
    </>
  );
}
