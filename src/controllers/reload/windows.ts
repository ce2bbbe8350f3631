// Restart windows: periods in which restarts may start ("02:00 to 05:00 on Sat and Sun, Berlin
// time"). Pure: every function takes `now`. A window's openings are a cron expression read in its
// time zone (croner), so days, time zones and DST follow the same rules as rotation schedules.
import { Cron } from 'croner';
import type { RestartWindow, Weekday } from '../../apis/v1alpha1/index.ts';

const DOW: Readonly<Record<Weekday, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

interface CompiledWindow {
  opens: Cron;
  durationMs: number;
}

function compile(w: RestartWindow, defaultTimeZone: string): CompiledWindow {
  const start = minutes(w.start);
  const end = minutes(w.end);
  const days = w.days && w.days.length > 0 ? w.days.map((d) => DOW[d]).join(',') : '*';
  return {
    opens: new Cron(`${start % 60} ${Math.floor(start / 60)} * * ${days}`, {
      timezone: w.timeZone ?? defaultTimeZone,
      paused: true,
      mode: '5-part',
    }),
    // A window that ends before it starts ends the next day.
    durationMs: ((end - start + 1440) % 1440 || 1440) * 60_000,
  };
}

export interface WindowState {
  /** A restart may start now. */
  open: boolean;
  /** When the next window opens (epoch ms), if not open now. */
  nextOpen?: number;
}

/** No windows: always open. */
export function windowState(
  windows: readonly RestartWindow[] | undefined,
  defaultTimeZone: string,
  now: number,
): WindowState {
  if (!windows || windows.length === 0) return { open: true };
  let nextOpen: number | undefined;
  for (const w of windows) {
    const c = compile(w, defaultTimeZone);
    // Opened within the last `duration` (and not yet closed)?
    const opened = c.opens.nextRun(new Date(now - c.durationMs))?.getTime();
    if (opened !== undefined && opened <= now) return { open: true };
    const next = c.opens.nextRun(new Date(now))?.getTime();
    if (next !== undefined && (nextOpen === undefined || next < nextOpen)) nextOpen = next;
  }
  return nextOpen === undefined ? { open: false } : { open: false, nextOpen };
}
