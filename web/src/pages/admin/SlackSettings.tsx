import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, put } from '../../api/client.ts';
import { keys } from '../../api/queries.ts';
import type { SlackSettings } from '../../api/admin-types.ts';
import { fieldErrorsOf, Form, FormError, onSubmitSend, SubmitButton, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { QueryView } from '../../components/Status.tsx';
import { Time } from '../../components/Time.tsx';
import { Link } from '../../router.tsx';

const SETTINGS_KEY = keys.admin('slack-settings');

/** The Slack app of this instance (docs/slack.md): its bot token and signing secret, write-only. */
export function SlackSettingsPage() {
  const client = useQueryClient();
  const settings = useQuery({ queryKey: SETTINGS_KEY, queryFn: () => get<SlackSettings>('/settings/slack') });
  const [form, setForm] = useState({ bot_token: '', signing_secret: '' });
  const save = useMutation({
    mutationFn: () => put<SlackSettings>('/settings/slack', form),
    onSuccess: async () => {
      setForm({ bot_token: '', signing_secret: '' });
      await client.invalidateQueries({ queryKey: SETTINGS_KEY });
    },
  });
  const remove = useMutation({ mutationFn: () => del('/settings/slack'), onSuccess: () => client.invalidateQueries({ queryKey: SETTINGS_KEY }) });
  const err = fieldErrorsOf(save.error);
  return (
    <>
      <PageHeader title="Slack" lead="Approve and Deny buttons in Slack messages, through a Slack app of your workspace. Messages go to channels chosen by event actions of the kind “Slack app”." />
      <QueryView query={settings} loading="Loading…">
        {(s) => (
          <section className="panel" aria-labelledby="slack-app-heading">
            <h2 id="slack-app-heading">Slack app</h2>
            <p>
              {s.configured ? (
                <>
                  Configured, last changed <Time iso={s.updated_at} />. The token and secret are never shown again; enter both to replace them.
                </>
              ) : (
                'Not configured: Slack buttons do nothing until a bot token and signing secret are set.'
              )}
            </p>
            <p>
              Interactivity Request URL for the app: <code>{s.interactivity_url}</code>
            </p>
            <Form
              onSubmit={onSubmitSend(() => save.mutate())}
              noValidate
              className="form-grid"
            >
              <FormError error={save.error} />
              {save.isSuccess && (
                <p className="notice notice-success" role="status">
                  Saved.
                </p>
              )}
              <TextField label="Bot token" hint="xoxb-…, from OAuth & Permissions (scope chat:write)." type="password" autoComplete="off" value={form.bot_token} onChange={(e) => setForm({ ...form, bot_token: e.target.value })} error={err('bot_token')} required />
              <TextField label="Signing secret" hint="From Basic Information → App Credentials." type="password" autoComplete="off" value={form.signing_secret} onChange={(e) => setForm({ ...form, signing_secret: e.target.value })} error={err('signing_secret')} required />
              <div className="form-actions">
                <SubmitButton busy={save.isPending} busyLabel="Saving…">
                  Save Slack app
                </SubmitButton>
                {s.configured && (
                  <button
                    type="button"
                    className="btn btn-danger"
                    disabled={remove.isPending}
                    onClick={() => {
                      if (window.confirm('Remove the Slack app settings? Buttons in Slack stop working at once.')) remove.mutate();
                    }}
                  >
                    Remove
                  </button>
                )}
              </div>
            </Form>
            <p>
              Then add an <Link to="/admin/event-actions">event action</Link> of the kind “Slack app” for a channel.
            </p>
          </section>
        )}
      </QueryView>
    </>
  );
}
