import { useId, type FormEvent, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { ApiError } from '../api/client.ts';

/** The field errors of a failed call, by the API's field name ("justification", "fields.ticket"). */
export function fieldErrorsOf(error: unknown): (field: string) => string | undefined {
  return (field) => (error instanceof ApiError ? error.fieldError(field) : undefined);
}

/**
 * Errors of a field and everything under it ("redirect_uris", "redirect_uris.2"), as one
 * message: list items are named by line ("line 3: must be https").
 */
export function fieldErrorsUnderOf(error: unknown): (prefix: string) => string | undefined {
  return (prefix) => {
    if (!(error instanceof ApiError)) return undefined;
    const found = error.errors.filter((e) => e.field === prefix || e.field.startsWith(`${prefix}.`));
    if (!found.length) return undefined;
    return found
      .map((e) => {
        const rest = e.field.slice(prefix.length + 1);
        return /^\d+$/.test(rest) ? `line ${Number(rest) + 1}: ${e.message}` : rest ? `${rest}: ${e.message}` : e.message;
      })
      .join('; ');
  };
}

/** The problem detail to show above a form when no field carries it. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const fieldCount = error instanceof ApiError ? error.errors.length : 0;
  const text = error instanceof Error ? error.message : 'Something went wrong.';
  return (
    <div className="form-error" role="alert">
      {fieldCount > 0 ? <strong>Please correct the {fieldCount === 1 ? 'field' : `${fieldCount} fields`} marked below.</strong> : <strong>{text}</strong>}
      {fieldCount > 0 && error instanceof ApiError && <p className="muted small">{error.message}</p>}
    </div>
  );
}

/** A form's submit handler: the browser does not post the page, `send` makes the call instead. */
export function onSubmitSend(send: () => void): (event: FormEvent) => void {
  return (event) => {
    event.preventDefault();
    send();
  };
}

/** A form's submit button, disabled while its call runs; with `busyLabel` it says so meanwhile. */
export function SubmitButton({ busy, busyLabel, className = 'btn btn-primary', disabled, children }: { busy: boolean; busyLabel?: string; className?: string; disabled?: boolean; children: ReactNode }) {
  return (
    <button type="submit" className={className} disabled={busy || disabled}>
      {busy && busyLabel ? busyLabel : children}
    </button>
  );
}

interface FrameProps {
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  required?: boolean;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}

/** Label, control, hint and error, wired together with ids for assistive technology. */
function Frame({ label, hint, error, required, children }: FrameProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {required && <span className="required" aria-hidden="true"> *</span>}
      </label>
      {children({ id, describedBy, invalid: !!error })}
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

type Common = { label: ReactNode; hint?: ReactNode; error?: string };

export function TextField({ label, hint, error, required, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Frame label={label} hint={hint} error={error} required={required}>
      {({ id, describedBy, invalid }) => <input id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} aria-required={required || undefined} {...input} />}
    </Frame>
  );
}

export function TextArea({ label, hint, error, required, ...input }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <Frame label={label} hint={hint} error={error} required={required}>
      {({ id, describedBy, invalid }) => <textarea id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} aria-required={required || undefined} rows={4} {...input} />}
    </Frame>
  );
}

export function SelectField({ label, hint, error, required, children, ...select }: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Frame label={label} hint={hint} error={error} required={required}>
      {({ id, describedBy, invalid }) => (
        <select id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} aria-required={required || undefined} {...select}>
          {children}
        </select>
      )}
    </Frame>
  );
}

export function Checkbox({ label, hint, error, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field field-check${error ? ' field-invalid' : ''}`}>
      <input type="checkbox" id={id} aria-describedby={describedBy} aria-invalid={!!error || undefined} {...input} />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A group of radios or checkboxes with a legend, and the error of the whole group. */
export function Fieldset({ legend, hint, error, children }: { legend: ReactNode; hint?: ReactNode; error?: string; children: ReactNode }) {
  const id = useId();
  return (
    <fieldset className={`fieldset${error ? ' field-invalid' : ''}`} aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}>
      <legend>{legend}</legend>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
