import { describe, expect, it } from 'vitest';
import { inboxShortcut, INBOX_SHORTCUTS, isTyping, type KeyPress } from '../web/src/lib/shortcuts.ts';

const press = (key: string, over: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, metaKey: false, altKey: false, target: { tagName: 'LI' }, ...over });

/** The inbox's shortcut rules (web/src/lib/shortcuts.ts): pure, so every case is listed here. */
describe('inbox keyboard shortcuts', () => {
  it.each([
    ['j', 'next'],
    ['ArrowDown', 'next'],
    ['k', 'previous'],
    ['ArrowUp', 'previous'],
    ['a', 'approve'],
    ['d', 'deny'],
    ['c', 'comment'],
    ['x', 'select'],
    ['?', 'help'],
  ])('%s → %s', (key, action) => {
    expect(inboxShortcut(press(key))).toBe(action);
    expect(inboxShortcut(press(key, { target: null }))).toBe(action);
    expect(inboxShortcut(press(key, { target: { tagName: 'INPUT', type: 'checkbox' } }))).toBe(action);
    expect(inboxShortcut(press(key, { target: { tagName: 'BUTTON' } }))).toBe(action);
  });

  it('other keys, and capitals (Shift with a letter), are no shortcut', () => {
    for (const key of ['A', 'D', 'J', 'b', 'Enter', ' ', 'Escape', 'ArrowLeft', 'Tab', '/']) expect(inboxShortcut(press(key)), key).toBeNull();
  });

  it.each([['ctrlKey'], ['metaKey'], ['altKey']] as const)('never with %s', (modifier) => {
    for (const s of INBOX_SHORTCUTS) for (const key of s.keys) expect(inboxShortcut(press(key, { [modifier]: true }))).toBeNull();
  });

  it.each([
    [{ tagName: 'TEXTAREA' }],
    [{ tagName: 'SELECT' }],
    [{ tagName: 'INPUT' }],
    [{ tagName: 'INPUT', type: 'text' }],
    [{ tagName: 'INPUT', type: 'search' }],
    [{ tagName: 'INPUT', type: 'number' }],
    [{ tagName: 'input', type: 'EMAIL' }],
    [{ tagName: 'DIV', isContentEditable: true }],
  ])('never while typing in %o', (target) => {
    expect(isTyping(target)).toBe(true);
    for (const s of INBOX_SHORTCUTS) for (const key of s.keys) expect(inboxShortcut(press(key, { target }))).toBeNull();
  });

  it('lists every action once, each with the keys it shows', () => {
    expect(new Set(INBOX_SHORTCUTS.map((s) => s.action)).size).toBe(INBOX_SHORTCUTS.length);
    for (const s of INBOX_SHORTCUTS) expect(s.shown.length).toBe(s.keys.length);
  });
});
