import { Modal } from '../../components/Modal.tsx';
import { INBOX_SHORTCUTS } from '../../lib/shortcuts.ts';

/** The help overlay ("?"): every inbox shortcut, from the same list the key handler reads. */
export function ShortcutsHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Modal open={open} title="Keyboard shortcuts" onClose={onClose}>
      <p className="muted small">They work while no text field has the focus. Esc in a comment goes back to the list; Esc here closes this list.</p>
      <table className="shortcut-table">
        <caption className="visually-hidden">Inbox keyboard shortcuts</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Does</th>
          </tr>
        </thead>
        <tbody>
          {INBOX_SHORTCUTS.map((s) => (
            <tr key={s.action}>
              <td>
                {s.shown.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ' or '}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{s.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}
