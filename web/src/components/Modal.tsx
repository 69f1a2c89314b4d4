import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal dialog on the native <dialog>: the browser makes the rest of the page inert,
 * keeps Tab inside and closes it on Esc. It is labelled by its heading; focus moves to the
 * first control inside (or the one marked autoFocus) and goes back where it was on close.
 */
export function Modal({ open, title, onClose, children, wide }: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // Esc, the close button and the caller closing it all end here.
    const closed = () => {
      onClose();
      const back = opener.current;
      opener.current = null;
      // Back to the control that opened it; if that is gone or disabled now, to the page heading.
      if (back?.isConnected && !back.matches(':disabled')) back.focus();
      else document.querySelector<HTMLElement>('main h1')?.focus();
    };
    dialog.addEventListener('close', closed);
    return () => dialog.removeEventListener('close', closed);
  }, [onClose]);

  return (
    <dialog ref={ref} className={`modal${wide ? ' modal-wide' : ''}`} aria-labelledby={titleId}>
      <div className="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => ref.current?.close()}>
          Close<span className="visually-hidden"> {title}</span>
        </button>
      </div>
      {open && children}
    </dialog>
  );
}
