import { createContext, useContext, useEffect, useId, useMemo, useRef, useState, type FormEvent, type FormHTMLAttributes, type InputHTMLAttributes, type ReactNode, type RefObject, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { requiredMessage } from '../../../src/http/plain-messages.ts';
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

/**
 * A field's error until its field is changed: then it is gone at once, before the next try.
 * Every sending of the form shows it again if it still holds (a mutation's error is cleared
 * while it runs anyway). Only inside a <Form>: elsewhere an error stays until its owner drops it.
 */
function useClearedOnChange(error: string | undefined): [shown: string | undefined, changed: () => void] {
  const scope = useContext(FormContext);
  const submits = scope?.submits ?? 0;
  const [cleared, setCleared] = useState<{ error?: string; submits: number }>({ submits });
  let current = cleared;
  if ((error === undefined && cleared.error !== undefined) || cleared.submits !== submits) {
    current = { submits };
    setCleared(current);
  }
  const shown = error !== undefined && error !== current.error ? error : undefined;
  return [shown, () => scope && setCleared({ error, submits })];
}

/** What a field tells its form: for the summary at the top and the check before sending. */
interface FieldEntry {
  id: string;
  label: string;
  /** The error the field shows now, and the id of the element showing it. */
  shown: string | undefined;
  errorId: string;
  /** The API's error given to the field, shown or cleared: the summary lists the others. */
  given: string | undefined;
  /** The message when it is empty on sending, or undefined when it may be empty. */
  requiredMessage: string | undefined;
}

interface FormScope {
  report(entry: FieldEntry): void;
  forget(id: string): void;
  /** The error found before sending, until the field is changed. */
  localError(id: string): string | undefined;
  clearLocal(id: string): void;
  entries: FieldEntry[];
  /** How often the form was sent (or stopped by the check in the browser): errors show again, the summary takes the focus. */
  submits: number;
}

const FormContext = createContext<FormScope | null>(null);

const textOf = (node: HTMLElement | null) => (node?.textContent ?? '').replace(/\s*\*\s*$/, '').trim();

/** The words for an empty required field: the API's, by field name, else from the label ("Pick a region"). */
function requiredWords(field: string | undefined, label: string, verb: 'Enter' | 'Pick'): string {
  const known = field ? requiredMessage(field) : 'Fill in this field';
  if (known !== 'Fill in this field' || !label) return known;
  const noun = label.charAt(0).toLowerCase() + label.slice(1);
  return `${verb} ${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** Tells the form about a field (its label, its error, whether it must be filled in). */
function useFormEntry(
  id: string,
  errorId: string,
  labelRef: RefObject<HTMLElement | null>,
  shown: string | undefined,
  given: string | undefined,
  required: { field?: string; verb: 'Enter' | 'Pick' } | null,
) {
  const scope = useContext(FormContext);
  // The form's scope changes with every error; the field leaves it only when it unmounts.
  const scopeRef = useRef(scope);
  useEffect(() => {
    scopeRef.current = scope;
  });
  const requiredField = required?.field;
  const requiredVerb = required?.verb;
  useEffect(() => {
    if (!scope) return;
    const label = textOf(labelRef.current);
    scope.report({ id, errorId, label, shown, given, requiredMessage: requiredVerb ? requiredWords(requiredField, label, requiredVerb) : undefined });
  });
  useEffect(() => () => scopeRef.current?.forget(id), [id]);
}

/**
 * A form that checks its required fields before sending (in the API's words), lists every
 * error at the top with links to the fields (FormError), and clears each error as soon as
 * its field is changed. `onSubmit` runs only when every required field is filled in (it may
 * be an onSubmitSend handler, as on a plain form).
 */
export function Form({ onSubmit: send, children, ...form }: { onSubmit: (event: FormEvent<HTMLFormElement>) => void; children: ReactNode } & Omit<FormHTMLAttributes<HTMLFormElement>, 'onSubmit'>) {
  const registry = useRef(new Map<string, FieldEntry>());
  const [entries, setEntries] = useState<FieldEntry[]>([]);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [submits, setSubmits] = useState(0);
  const publish = () => {
    const list = [...registry.current.values()];
    // Page order, whatever order the fields mounted in.
    list.sort((a, b) => {
      const [x, y] = [document.getElementById(a.id), document.getElementById(b.id)];
      return x && y ? (x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1) : 0;
    });
    setEntries((old) => (old.length === list.length && old.every((e, i) => sameEntry(e, list[i]!)) ? old : list));
  };
  const scope = useMemo<FormScope>(
    () => ({
      report: (entry) => {
        const old = registry.current.get(entry.id);
        registry.current.set(entry.id, entry);
        if (!old || !sameEntry(old, entry)) publish();
      },
      forget: (id) => {
        registry.current.delete(id);
        publish();
      },
      localError: (id) => local[id],
      clearLocal: (id) => setLocal((l) => (id in l ? Object.fromEntries(Object.entries(l).filter(([k]) => k !== id)) : l)),
      entries,
      submits,
    }),
    [local, entries, submits],
  );
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    for (const entry of registry.current.values()) {
      const control = document.getElementById(entry.id) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
      if (entry.requiredMessage && control && !control.disabled && control.value.trim() === '') missing[entry.id] = entry.requiredMessage;
    }
    setLocal(missing);
    setSubmits((n) => n + 1);
    // Stopped here, the summary names every missing field and takes the focus (FormError).
    if (Object.keys(missing).length === 0) send(event);
  };
  return (
    <FormContext.Provider value={scope}>
      <form noValidate {...form} onSubmit={onSubmit}>
        {children}
      </form>
    </FormContext.Provider>
  );
}

const sameEntry = (a: FieldEntry, b: FieldEntry) => a.id === b.id && a.errorId === b.errorId && a.label === b.label && a.shown === b.shown && a.given === b.given && a.requiredMessage === b.requiredMessage;

/** An API field path no control of the form shows, in words: "max_start_delay_mins" → "Max start delay mins". */
const fieldWords = (path: string) => {
  const words = path.replace(/^(body|querystring)\./, '').replace(/[._]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/**
 * Every error of a form, the fields' as links to them. It takes the focus when a sending
 * fails (a screen reader reads it; Tab reaches its links), not while fields are fixed.
 */
function ErrorSummary({ showing, unplaced, error, submits }: { showing: FieldEntry[]; unplaced: { field: string; message: string }[]; error: unknown; submits: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), [error, submits]);
  const count = showing.length + unplaced.length;
  return (
    <div className="form-error form-error-summary" role="alert" tabIndex={-1} ref={ref}>
      <strong>Please correct the {count === 1 ? 'field' : `${count} fields`} marked below.</strong>
      <ul>
        {showing.map((e) => (
          <li key={e.id}>
            <a
              href={`#${e.id}`}
              aria-describedby={e.label ? e.errorId : undefined}
              onClick={(event) => {
                event.preventDefault();
                document.getElementById(e.id)?.focus();
              }}
            >
              {e.label || e.shown}
            </a>
          </li>
        ))}
        {unplaced.map((e) => (
          <li key={`${e.field}:${e.message}`}>
            {fieldWords(e.field)}: {e.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The errors of a form at its top. Inside <Form>: every field's error as a link to the
 * field, plus the API's errors no field shows. Elsewhere, or `plain` (a second call of the
 * same form, such as its delete button's): the problem's detail.
 */
export function FormError({ error, plain = false }: { error: unknown; plain?: boolean }) {
  const context = useContext(FormContext);
  const scope = plain ? null : context;
  const showing = scope?.entries.filter((e) => e.shown) ?? [];
  const apiErrors = error instanceof ApiError ? error.errors : [];
  const unplaced = scope ? apiErrors.filter((e) => !scope.entries.some((x) => x.given?.includes(e.message))) : [];
  if (scope && (showing.length > 0 || unplaced.length > 0)) return <ErrorSummary showing={showing} unplaced={unplaced} error={error} submits={scope.submits} />;
  // Inside a form whose every error was fixed, or for a problem without fields: the detail.
  if (!error || (scope && apiErrors.length > 0)) return null;
  const fieldCount = apiErrors.length;
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
  /** The API's name of the field ("email"), for the words of "required"; the control's name attribute. */
  field?: string;
  verb: 'Enter' | 'Pick';
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}

/** Label, control, hint and error, wired together with ids for assistive technology. */
function Frame({ label, hint, error, required, field, verb, children }: FrameProps) {
  const id = useId();
  const labelRef = useRef<HTMLLabelElement>(null);
  const scope = useContext(FormContext);
  const [apiError, changed] = useClearedOnChange(error);
  const shown = scope?.localError(id) ?? apiError;
  useFormEntry(id, `${id}-error`, labelRef, shown, error, required ? { field, verb } : null);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = shown ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div
      className={`field${shown ? ' field-invalid' : ''}`}
      onChange={() => {
        changed();
        scope?.clearLocal(id);
      }}
    >
      <label htmlFor={id} ref={labelRef}>
        {label}
        {required && <span className="required" aria-hidden="true"> *</span>}
      </label>
      {children({ id, describedBy, invalid: !!shown })}
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {shown && (
        <p className="field-error" id={errorId}>
          {shown}
        </p>
      )}
    </div>
  );
}

type Common = { label: ReactNode; hint?: ReactNode; error?: string };

export function TextField({ label, hint, error, required, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Frame label={label} hint={hint} error={error} required={required} field={input.name} verb="Enter">
      {({ id, describedBy, invalid }) => <input id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} aria-required={required || undefined} {...input} />}
    </Frame>
  );
}

export function TextArea({ label, hint, error, required, ...input }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <Frame label={label} hint={hint} error={error} required={required} field={input.name} verb="Enter">
      {({ id, describedBy, invalid }) => <textarea id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} aria-required={required || undefined} rows={4} {...input} />}
    </Frame>
  );
}

export function SelectField({ label, hint, error, required, children, ...select }: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Frame label={label} hint={hint} error={error} required={required} field={select.name} verb="Pick">
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
  const labelRef = useRef<HTMLLabelElement>(null);
  const [shown, changed] = useClearedOnChange(error);
  useFormEntry(id, `${id}-error`, labelRef, shown, error, null);
  const describedBy = [hint ? `${id}-hint` : '', shown ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field field-check${shown ? ' field-invalid' : ''}`} onChange={changed}>
      <input type="checkbox" id={id} aria-describedby={describedBy} aria-invalid={!!shown || undefined} {...input} />
      <label htmlFor={id} ref={labelRef}>
        {label}
      </label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {shown && (
        <p className="field-error" id={`${id}-error`}>
          {shown}
        </p>
      )}
    </div>
  );
}

/** A group of radios or checkboxes with a legend, and the error of the whole group (cleared when any of them changes). */
export function Fieldset({ legend, hint, error, children }: { legend: ReactNode; hint?: ReactNode; error?: string; children: ReactNode }) {
  const id = useId();
  const legendRef = useRef<HTMLLegendElement>(null);
  const [shown, changed] = useClearedOnChange(error);
  useFormEntry(`${id}-group`, `${id}-error`, legendRef, shown, error, null);
  return (
    <fieldset id={`${id}-group`} tabIndex={-1} className={`fieldset${shown ? ' field-invalid' : ''}`} aria-describedby={shown ? `${id}-error` : hint ? `${id}-hint` : undefined} onChange={changed}>
      <legend ref={legendRef}>{legend}</legend>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children}
      {shown && (
        <p className="field-error" id={`${id}-error`}>
          {shown}
        </p>
      )}
    </fieldset>
  );
}

/** For groups of controls outside this file (GroupChecklist): the error until a control changes, reported to the form. */
export function useGroupError(id: string, errorId: string, legendRef: RefObject<HTMLElement | null>, error: string | undefined): [shown: string | undefined, changed: () => void] {
  const [shown, changed] = useClearedOnChange(error);
  useFormEntry(id, errorId, legendRef, shown, error, null);
  return [shown, changed];
}
