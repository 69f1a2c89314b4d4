import { describe, expect, it } from 'vitest';
import { describeProblem, exitCodeOf } from '../src/cli/api.ts';
import { EXIT } from '../src/cli/exit-codes.ts';
import { collectField, minutesInWords, parseDuration, parseStart } from '../src/cli/parse.ts';
import { configDir } from '../src/cli/store.ts';
import { proofOf } from '../src/oidc/device-confirm.ts';
import { agoInWords } from '../src/oidc/device-views.ts';

describe('the CLI’s pure rules', () => {
  it('reads durations as minutes, and refuses anything else', () => {
    expect([parseDuration('30m'), parseDuration('4h'), parseDuration('1h30m'), parseDuration('2d'), parseDuration('90'), parseDuration(' 1D4H ')]).toEqual([30, 240, 90, 2880, 90, 1680]);
    for (const bad of ['', '0', '0h', '4 hours', '-1h', 'h', '1.5h', '4x']) expect(() => parseDuration(bad), bad).toThrow();
    expect([minutesInWords(30), minutesInWords(240), minutesInWords(1530), minutesInWords(0)]).toEqual(['30m', '4h', '1d 1h 30m', '0m']);
  });

  it('reads --start as an ISO time with its zone or +duration, and --field as key=value', () => {
    expect(parseStart('+2h', Date.parse('2031-03-01T09:00:00Z'))).toBe('2031-03-01T11:00:00.000Z');
    expect(parseStart('in 30m', Date.parse('2031-03-01T09:00:00Z'))).toBe('2031-03-01T09:30:00.000Z');
    expect(parseStart('2031-03-01T10:00:00+01:00')).toBe('2031-03-01T09:00:00.000Z');
    for (const bad of ['tomorrow', '2031-03-01', '+', '+soon']) expect(() => parseStart(bad), bad).toThrow();
    expect(collectField('ticket=INC-1=2', collectField('env=prod'))).toEqual({ env: 'prod', ticket: 'INC-1=2' });
    expect(() => collectField('=x')).toThrow();
    expect(() => collectField('novalue')).toThrow();
  });

  it('finds the config folder: INTERIM_CONFIG_DIR, else XDG_CONFIG_HOME/interim, else ~/.config/interim', () => {
    expect(configDir({ INTERIM_CONFIG_DIR: '/x/y', XDG_CONFIG_HOME: '/xdg' })).toBe('/x/y');
    expect(configDir({ XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/interim');
    expect(configDir({})).toMatch(/\/\.config\/interim$/);
  });

  it('says an API refusal in words and maps it to an exit code', () => {
    const invalid = { status: 400, code: 'validation_failed', detail: 'duration_mins: must be one of 60, 240', errors: [{ field: 'duration_mins', message: 'must be one of 60, 240' }] };
    expect(describeProblem(invalid)).toBe('duration_mins: must be one of 60, 240 (validation_failed)');
    expect(describeProblem({ status: 409, detail: 'already open', errors: [{ field: 'template_id', message: 'one open request' }] })).toBe('already open; template_id: one open request');
    expect(describeProblem({ status: 502 })).toBe('HTTP 502');
    expect(exitCodeOf(invalid)).toBe(EXIT.error);
    expect(exitCodeOf({ status: 401 })).toBe(EXIT.notSignedIn);
    expect(exitCodeOf({ status: 403, code: 'forbidden' })).toBe(EXIT.denied);
    for (const code of ['step_up_required', 'step_up_invalid', 'step_up_stale']) expect(exitCodeOf({ status: 403, code })).toBe(EXIT.stepUp);
    expect(exitCodeOf({ status: 404 })).toBe(EXIT.error);
  });

  it('the device confirm page: how long ago, and which proof a typed answer is', () => {
    expect([agoInWords(-5), agoInWords(59_999), agoInWords(60_000), agoInWords(299_000)]).toEqual(['less than a minute ago', 'less than a minute ago', '1 minute ago', '4 minutes ago']);
    expect(proofOf('123456')).toEqual({ totp: '123456' });
    expect(proofOf('ABCD-EFGH')).toEqual({ recovery_code: 'ABCD-EFGH' });
    expect(proofOf('12345')).toEqual({ recovery_code: '12345' });
  });
});
