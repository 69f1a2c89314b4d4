import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, post } from '../api/client.ts';
import { useRequestable } from '../api/queries.ts';
import type { AccessRequest, CustomField, FieldAnswer, Requestable } from '../api/types.ts';
import { Checkbox, fieldErrorsOf, Fieldset, Form, FormError, SelectField, TextArea, TextField } from '../components/Field.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { StartTimeField } from '../components/StartTimeField.tsx';
import { Empty, QueryView } from '../components/Status.tsx';
import { formatDuration } from '../lib/format.ts';
import { Link, navigate } from '../router.tsx';
import { BreakGlassPanel } from '../components/BreakGlass.tsx';
import { StagePlan } from '../components/StageProgress.tsx';
import { ActiveGrantPointer } from '../components/ExtendGrant.tsx';
import { MyAccessNotice } from '../components/MyAccessNotice.tsx';

function CustomFieldInput({ field, value, error, onChange }: { field: CustomField; value: FieldAnswer | undefined; error?: string; onChange: (v: FieldAnswer | undefined) => void }) {
  switch (field.type) {
    case 'checkbox':
      return <Checkbox label={field.label} checked={value === true} onChange={(e) => onChange(e.target.checked)} error={error} />;
    case 'dropdown':
      return (
        <SelectField label={field.label} required={field.required} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value || undefined)} error={error}>
          <option value="">{field.required ? 'Choose…' : '(none)'}</option>
          {(field.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </SelectField>
      );
    case 'text':
      return <TextField label={field.label} required={field.required} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value)} error={error} maxLength={2000} />;
  }
}

/** Answers to send: unanswered optional fields are left out; checkboxes always answer. */
function answersFor(template: Requestable, answers: Record<string, FieldAnswer | undefined>): Record<string, FieldAnswer> {
  const out: Record<string, FieldAnswer> = {};
  for (const field of template.custom_fields) {
    const value = answers[field.key];
    if (field.type === 'checkbox') out[field.key] = value === true;
    else if (typeof value === 'string' && value !== '') out[field.key] = value;
  }
  return out;
}

function RequestFormFor({ template }: { template: Requestable }) {
  const client = useQueryClient();
  const [duration, setDuration] = useState<number>(template.allowed_durations[0] ?? 60);
  const [justification, setJustification] = useState('');
  const [answers, setAnswers] = useState<Record<string, FieldAnswer | undefined>>({});
  const [startsAt, setStartsAt] = useState<string | undefined>(undefined);
  const submit = useMutation({
    mutationFn: () =>
      post<AccessRequest>('/access-requests', { template_id: template.id, duration_mins: duration, justification, fields: answersFor(template, answers), ...(startsAt ? { starts_at: startsAt } : {}) }),
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: ['requests'] });
      navigate(`/requests/${created.id}`);
    },
  });
  const err = fieldErrorsOf(submit.error);
  const existing = submit.error instanceof ApiError && typeof submit.error.body.existing_request_id === 'string' ? submit.error.body.existing_request_id : null;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit.mutate();
  };

  return (
    <Form onSubmit={onSubmit} noValidate className="panel form" aria-label={`Request ${template.name}`}>
      {template.mine && <MyAccessNotice mine={template.mine} templateName={template.name} />}
      <FormError error={submit.error} />
      <ActiveGrantPointer error={submit.error} />
      {existing && (
        <p className="notice">
          <Link to={`/requests/${existing}`}>Open your pending request</Link> instead.
        </p>
      )}
      <Fieldset legend="How long do you need it?" error={err('duration_mins')} hint={startsAt ? 'The time counts from the start you choose.' : 'The time starts when your request is approved.'}>
        <div className="radio-row">
          {template.allowed_durations.map((d) => (
            <label key={d} className="radio-pill">
              <input type="radio" name="duration" value={d} checked={duration === d} onChange={() => setDuration(d)} />
              <span>{formatDuration(d)}</span>
            </label>
          ))}
        </div>
      </Fieldset>
      {(template.max_start_delay_mins ?? 0) > 0 && <StartTimeField maxDelayMins={template.max_start_delay_mins!} onChange={setStartsAt} error={err('starts_at')} />}
      <TextArea
        label="Justification"
        required={template.require_justification}
        hint={template.require_justification ? 'Required. Say what you will do and why; approvers see this.' : 'Optional. Approvers see this.'}
        value={justification}
        onChange={(e) => setJustification(e.target.value)}
        error={err('justification')}
        maxLength={4000}
      />
      {template.custom_fields.map((field) => (
        <CustomFieldInput key={field.key} field={field} value={answers[field.key]} error={err(`fields.${field.key}`)} onChange={(v) => setAnswers((a) => ({ ...a, [field.key]: v }))} />
      ))}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={submit.isPending}>
          {submit.isPending ? 'Submitting…' : template.auto_approve ? 'Get access' : 'Submit request'}
        </button>
        <Link to="/" className="btn btn-ghost">
          Cancel
        </Link>
      </div>
    </Form>
  );
}

/** The request form, built from the template's durations and custom fields. */
export function RequestFormPage({ templateId }: { templateId: string }) {
  const templates = useRequestable();
  const template = templates.data?.find((t) => t.id === templateId);
  return (
    <>
      <PageHeader
        title={template ? `Request ${template.name}` : 'Request access'}
        lead={template ? `${template.app.name}${template.auto_approve ? ' · approved automatically' : ''}` : undefined}
      />
      <QueryView
        query={templates}
        loading="Loading the form…"
        isEmpty={() => !template}
        empty={
          <Empty title="This access cannot be requested">
            It may have been disabled or deleted, or it is not offered to you. <Link to="/">Back to the catalogue</Link>
          </Empty>
        }
      >
        {() => (
          <div className="two-col">
            <RequestFormFor template={template!} />
            <aside className="panel side-note" aria-label="About this access">
              <h2>What happens next</h2>
              <p>
                {template!.auto_approve
                  ? 'This access is granted at once.'
                  : template!.stages.length > 1
                    ? `Approval goes through ${template!.stages.length} stages, in order; each stage's approvers are notified when it opens.`
                    : template!.open
                    ? 'Anyone but you may approve it. You will be notified of the decision.'
                    : `Approvers in ${template!.approver_groups.map((g) => g.name).join(', ')} are notified and decide.`}
              </p>
              {!template!.auto_approve && (template!.stages.length > 1 || template!.stages.some((s) => s.quorum > 1)) && <StagePlan stages={template!.stages} />}
              {template!.description && <p className="muted prewrap">{template!.description}</p>}
              {template!.pending_ttl_mins !== null && !template!.auto_approve && <p className="muted small">A request nobody decides within {formatDuration(template!.pending_ttl_mins)} lapses.</p>}
            </aside>
            <BreakGlassPanel template={template!} renderField={(field, value, onChange, error) => <CustomFieldInput field={field} value={value} error={error} onChange={onChange} />} />
          </div>
        )}
      </QueryView>
    </>
  );
}
