/**
 * The inbox's keyboard shortcuts (issue 14 §4): one list, read by the key handler and by
 * the help overlay, so what the overlay says is what the keys do. Pure, so every key and
 * every "not now" case is tested without a browser (test/inbox-shortcuts.test.ts).
 */
export type InboxAction = 'next' | 'previous' | 'approve' | 'deny' | 'comment' | 'select' | 'help';

export const INBOX_SHORTCUTS: readonly { keys: readonly string[]; shown: readonly string[]; action: InboxAction; label: string }[] = [
  { keys: ['j', 'ArrowDown'], shown: ['j', '↓'], action: 'next', label: 'Next request' },
  { keys: ['k', 'ArrowUp'], shown: ['k', '↑'], action: 'previous', label: 'Previous request' },
  { keys: ['a'], shown: ['a'], action: 'approve', label: 'Approve the current request' },
  { keys: ['d'], shown: ['d'], action: 'deny', label: 'Deny the current request' },
  { keys: ['c'], shown: ['c'], action: 'comment', label: 'Write a comment for the current request' },
  { keys: ['x'], shown: ['x'], action: 'select', label: 'Select the current request for a bulk decision' },
  { keys: ['?'], shown: ['?'], action: 'help', label: 'Show this list' },
];

/** What the handler needs of a keydown event (a KeyboardEvent fits). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: { tagName?: string; type?: string; isContentEditable?: boolean } | null;
}

/** Inputs where a key press is not text: a letter there may still be a shortcut. */
const NOT_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset']);

/** True when the key goes into a field the person is typing in. */
export function isTyping(target: KeyPress['target']): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = (target.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !NOT_TEXT_INPUTS.has((target.type ?? 'text').toLowerCase());
}

/**
 * The action a key press asks for, or null: never while typing in a field, never with
 * Ctrl, Cmd or Alt (those belong to the browser and the system). Shift is allowed only as
 * part of the key itself ("?"); a capital letter is no shortcut.
 */
export function inboxShortcut(press: KeyPress): InboxAction | null {
  if (press.ctrlKey || press.metaKey || press.altKey || isTyping(press.target)) return null;
  return INBOX_SHORTCUTS.find((s) => s.keys.includes(press.key))?.action ?? null;
}
