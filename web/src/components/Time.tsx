import { useEffect, useState, useSyncExternalStore } from 'react';
import { currentTimeZone, formatAbsolute, formatRelative, onTimeZoneChange, serverNow } from '../lib/time.ts';

const useTimeZone = () => useSyncExternalStore(onTimeZoneChange, currentTimeZone);

/** Re-renders every 30 s, so "just now" becomes "1 min ago" without a reload. */
function useTicking(): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(serverNow()), 30_000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

/**
 * A moment, shown the portal's one way: relative words, with the absolute time and
 * zone on hover (and to screen readers through the title). `absolute` shows the full
 * time inline, for places where the exact minute is the point (an audit trail).
 */
export function Time({ iso, absolute, fallback = '—' }: { iso: string | null | undefined; absolute?: boolean; fallback?: string }) {
  const zone = useTimeZone();
  const now = useTicking();
  if (!iso) return <>{fallback}</>;
  const full = formatAbsolute(iso, zone);
  return (
    <time dateTime={iso} title={full}>
      {absolute ? full : formatRelative(iso, now, zone)}
    </time>
  );
}
