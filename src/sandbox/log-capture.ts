import { GUEST_LIMITS, type GuestLog, type LogLevel } from './protocol.ts';

/**
 * Collects a script's log lines up to GUEST_LIMITS.logEntries entries and
 * GUEST_LIMITS.logBytes of UTF-8 text. Past either, the line that crossed is cut and
 * the rest dropped, and finish() appends one marker saying how much was lost.
 * Every line is passed through `redact` first, so granted secret values never land
 * in a run record even when a script logs them.
 */
export class LogCapture {
  private readonly entries: GuestLog[] = [];
  private readonly redact: (text: string) => string;
  private bytes = 0;
  private dropped = 0;
  private cut = false;

  constructor(redact: (text: string) => string = (t) => t) {
    this.redact = redact;
  }

  /**
   * False once the log is full: the caller may then stop formatting lines and pass
   * undefined, which only counts them.
   */
  add(level: LogLevel, message: string | undefined, offsetMs: number): boolean {
    if (this.isFull() || message === undefined) {
      this.dropped++;
      return false;
    }
    const text = this.redact(message);
    const size = Buffer.byteLength(text, 'utf8');
    const room = GUEST_LIMITS.logBytes - this.bytes;
    if (size <= room) {
      this.entries.push({ level, message: text, offsetMs });
      this.bytes += size;
      return !this.isFull();
    }
    this.entries.push({ level, message: `${cutUtf8(text, room)}…`, offsetMs });
    this.bytes = GUEST_LIMITS.logBytes;
    this.cut = true;
    return false;
  }

  finish(offsetMs: number): GuestLog[] {
    if (!this.cut && this.dropped === 0) return this.entries;
    const limits = `${GUEST_LIMITS.logEntries} entries and ${GUEST_LIMITS.logBytes / 1024} KiB per run`;
    const what = [this.cut ? 'the last line was cut' : '', this.dropped ? `${this.dropped} more entries were dropped` : ''].filter(Boolean).join(' and ');
    const marker: GuestLog = { level: 'warn', message: `[log truncated: ${what}; the limits are ${limits}]`, offsetMs };
    return [...this.entries, marker];
  }

  private isFull(): boolean {
    return this.cut || this.entries.length >= GUEST_LIMITS.logEntries || this.bytes >= GUEST_LIMITS.logBytes;
  }
}

/** At most `maxBytes` bytes of UTF-8, never splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text.slice(0, maxBytes), 'utf8');
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** Replaces each secret value (4 characters or longer) with [redacted]. */
export function secretRedactor(values: readonly string[]): (text: string) => string {
  const secrets = [...new Set(values.filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
}
