import { afterEach, describe, expect, it } from 'vitest';
import { browserTimeZone, currentTimeZone, formatAbsolute, formatRelative, fromZonedInput, isTimeZone, onTimeZoneChange, setPreferredTimeZone, toZonedInput } from '../web/src/lib/time.ts';
import { rangeQuery } from '../web/src/pages/admin/insights-format.ts';

// The portal's time words (web/src/lib/time.ts) are pure functions of the instant, "now", the
// zone and the locale: run here under node, with the locale pinned so the text is exact.
const NOW = Date.parse('2026-12-04T14:05:00Z');
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const rel = (offsetMs: number) => formatRelative(at(offsetMs), NOW, 'Europe/Paris', 'en-GB');

describe('formatRelative', () => {
  it.each([
    [0, 'just now'],
    [44 * SEC, 'just now'],
    [-44 * SEC, 'just now'],
    [44_999, 'just now'],
    [45 * SEC, 'in 1 min'],
    [-45 * SEC, '1 min ago'],
    [89 * SEC, 'in 1 min'],
    [90 * SEC, 'in 2 min'],
    [-12 * MIN, '12 min ago'],
    [12 * MIN, 'in 12 min'],
    [59 * MIN, 'in 59 min'],
    [59 * MIN + 29 * SEC, 'in 59 min'],
    // Rounded to whole minutes first: never "60 min".
    [59 * MIN + 30 * SEC, 'in 1 h'],
    [-(59 * MIN + 40 * SEC), '1 h ago'],
    [HOUR, 'in 1 h'],
    [HOUR + 5 * MIN, 'in 1 h 5 min'],
    [-(2 * HOUR + 5 * MIN), '2 h 5 min ago'],
    [2 * HOUR + 59 * MIN, 'in 2 h 59 min'],
    // Never "2 h 60 min".
    [2 * HOUR + 59 * MIN + 40 * SEC, 'in 3 h'],
    [3 * HOUR, 'in 3 h'],
    [-3 * HOUR, '3 h ago'],
    [3 * HOUR + 29 * MIN, 'in 3 h'],
    [3 * HOUR + 30 * MIN, 'in 4 h'],
    [-23 * HOUR, '23 h ago'],
    [DAY - 1, 'in 24 h'],
    [DAY, 'in 1 day'],
    [-DAY, '1 day ago'],
    [DAY + 11 * HOUR, 'in 1 day'],
    [DAY + 12 * HOUR, 'in 2 days'],
    [-3 * DAY, '3 days ago'],
    [7 * DAY - 1, 'in 7 days'],
  ])('%i ms from now reads "%s"', (offset, words) => {
    expect(rel(offset)).toBe(words);
  });

  it('past a week shows the absolute date, in the zone given', () => {
    expect(rel(7 * DAY)).toBe('11 Dec 2026, 15:05 CET');
    expect(rel(-30 * DAY)).toBe('4 Nov 2026, 15:05 CET');
    expect(formatRelative(at(8 * DAY), NOW, 'UTC', 'en-GB')).toBe('12 Dec 2026, 14:05 UTC');
  });

  it('counts from the now it is given (the server’s), not this machine’s clock', () => {
    expect(formatRelative('2020-01-01T00:10:00Z', Date.parse('2020-01-01T00:00:00Z'), 'UTC', 'en-GB')).toBe('in 10 min');
  });
});

describe('formatAbsolute', () => {
  it.each([
    ['2026-12-04T14:05:00Z', 'Europe/Paris', '4 Dec 2026, 15:05 CET'],
    ['2026-07-04T14:05:00Z', 'Europe/Paris', '4 Jul 2026, 16:05 CEST'],
    ['2026-12-04T14:05:00Z', 'UTC', '4 Dec 2026, 14:05 UTC'],
    ['2026-12-04T14:05:00Z', 'Asia/Kolkata', '4 Dec 2026, 19:35 GMT+5:30'],
    // The zone moves the date too.
    ['2026-12-31T23:30:00Z', 'Pacific/Auckland', '1 Jan 2027, 12:30 GMT+13'],
    ['2026-12-04T14:05:00Z', 'America/New_York', '4 Dec 2026, 09:05 GMT-5'],
  ])('%s in %s reads "%s"', (iso, zone, text) => {
    expect(formatAbsolute(iso, zone, 'en-GB')).toBe(text);
  });

  it('follows the locale given', () => {
    expect(formatAbsolute('2026-12-04T14:05:00Z', 'America/New_York', 'en-US')).toBe('Dec 4, 2026, 09:05 AM EST');
  });
});

describe('the preferred zone', () => {
  afterEach(() => setPreferredTimeZone(null));

  it('a known zone becomes the current one and tells the listeners once; null or unknown falls back to the browser’s', () => {
    let heard = 0;
    const stop = onTimeZoneChange(() => heard++);
    setPreferredTimeZone('Asia/Tokyo');
    setPreferredTimeZone('Asia/Tokyo');
    expect(currentTimeZone()).toBe('Asia/Tokyo');
    expect(heard).toBe(1);
    setPreferredTimeZone('Mars/Olympus_Mons');
    expect(currentTimeZone()).toBe(browserTimeZone());
    setPreferredTimeZone('Europe/Paris');
    setPreferredTimeZone(null);
    expect(currentTimeZone()).toBe(browserTimeZone());
    expect(heard).toBe(4);
    stop();
    setPreferredTimeZone('UTC');
    expect(heard).toBe(4);
  });

  it('isTimeZone accepts IANA names and refuses the rest', () => {
    for (const zone of ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires']) expect(isTimeZone(zone)).toBe(true);
    for (const zone of ['', 'Mars/Olympus_Mons', 'Europe/Pariss', 'not a zone']) expect(isTimeZone(zone)).toBe(false);
  });
});

describe('the start-time field in the user’s zone', () => {
  it.each([
    ['2026-05-01T09:30', 'Europe/Paris', '2026-05-01T07:30:00.000Z'],
    ['2026-12-04T15:05', 'Europe/Paris', '2026-12-04T14:05:00.000Z'],
    ['2026-12-04T15:05', 'Asia/Kolkata', '2026-12-04T09:35:00.000Z'],
    ['2026-12-04T15:05', 'UTC', '2026-12-04T15:05:00.000Z'],
    ['2026-12-04T15:05:30', 'UTC', '2026-12-04T15:05:30.000Z'],
    ['2026-12-04T09:05', 'America/New_York', '2026-12-04T14:05:00.000Z'],
    ['2027-01-01T00:30', 'Pacific/Auckland', '2026-12-31T11:30:00.000Z'],
    // Skipped by the clocks going forward: moves on by the gap.
    ['2026-03-29T02:30', 'Europe/Paris', '2026-03-29T01:30:00.000Z'],
    // Repeated by the clocks going back: the second occurrence.
    ['2026-10-25T02:30', 'Europe/Paris', '2026-10-25T01:30:00.000Z'],
  ])('%s in %s is %s', (local, zone, iso) => {
    expect(new Date(fromZonedInput(local, zone)).toISOString()).toBe(iso);
  });

  it('round-trips every quarter hour of a year with both changes, and refuses what is not a time', () => {
    for (const zone of ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
      for (let ms = Date.parse('2026-01-01T00:00:00Z'); ms < Date.parse('2027-01-01T00:00:00Z'); ms += 15 * 60_000 * 7) {
        const local = toZonedInput(ms, zone);
        const back = fromZonedInput(local, zone);
        // Every instant shows as a wall time that names it again, but in an overlap (where it may name the other occurrence).
        if (back !== ms) expect(toZonedInput(back, zone)).toBe(local);
      }
    }
    for (const bad of ['', 'bad', '2026-05-01', '2026-05-01 09:30', '2026-05-01T9:30']) expect(fromZonedInput(bad, 'UTC')).toBeNaN();
  });
});

describe('the insights date range in the user’s zone', () => {
  it('reads From and To as whole days of that zone, To inclusive', () => {
    expect(rangeQuery({ from: '2031-03-01', to: '2031-03-31', template_id: '' }, 'Europe/Paris')).toEqual({ from: '2031-02-28T23:00:00.000Z', to: '2031-03-31T22:00:00.000Z', template_id: undefined });
    expect(rangeQuery({ from: '2031-06-01', to: '2031-06-01', template_id: 't' }, 'UTC')).toEqual({ from: '2031-06-01T00:00:00.000Z', to: '2031-06-02T00:00:00.000Z', template_id: 't' });
  });

  it('leaves a blank or malformed day to the API’s default', () => {
    expect(rangeQuery({ from: '', to: 'soon', template_id: '' }, 'UTC')).toEqual({ from: undefined, to: undefined, template_id: undefined });
  });
});
