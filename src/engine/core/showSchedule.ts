/**
 * What a show should play at an instant, and how loud at most: the schedule
 * (on and off times, quiet hours, playlists by weekday, month, season or cron)
 * and the playlist's position (entries for a duration, until a local time of
 * day, or until a stream crosses a value). Pure: time comes in as epoch
 * milliseconds, stream values as a lookup; local times are the show's time zone
 * through Intl and croner, so daylight-saving changes fall where the site's
 * clocks put them.
 */
import { Cron } from 'croner';
import { MONTHS, parseTimeOfDay, SEASONS, WEEKDAYS, type ShowEntry, type ShowFile } from './showSchema.ts';

/** The name of the show's top-level `playlist`. */
export const MAIN_PLAYLIST = 'main';
/** A threshold entry plays at least this long, so a value already past it does not flick through. */
export const MIN_THRESHOLD_PLAY_MS = 60_000;

/** An instant as the site's clocks show it. */
export interface LocalTime {
  year: number;
  /** 0 (January) … 11. */
  month: number;
  day: number;
  /** 0 (Sunday) … 6. */
  weekday: number;
  /** Minutes after local midnight, 0 … 1439. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The local calendar time of `t` (epoch ms) in `timeZone` (undefined: the machine's). */
export function localTime(t: number, timeZone?: string): LocalTime {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short', hour: 'numeric', minute: 'numeric' });
    formatters.set(key, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(t)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month) - 1,
    day: Number(parts.day),
    weekday: WEEKDAY_INDEX[parts.weekday!]!,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The meteorological season of a month (0–11) in a hemisphere. */
export function seasonOf(month: number, hemisphere: 'north' | 'south'): (typeof SEASONS)[number] {
  const m = hemisphere === 'north' ? month : (month + 6) % 12;
  return m <= 1 || m === 11 ? 'winter' : m <= 4 ? 'spring' : m <= 7 ? 'summer' : 'autumn';
}

/** A cron pattern from the show file's "HH:MM" or cron text. */
export function cronPattern(when: string): string {
  const m = parseTimeOfDay(when);
  return m === undefined ? when : `${m % 60} ${Math.floor(m / 60)} * * *`;
}

/** What the schedule says at an instant. */
export interface ShowPlan {
  /** Between an on and the next off (always, without on/off). */
  on: boolean;
  /** The playlist the rules pick ({@link MAIN_PLAYLIST} when none matches). */
  playlist: string;
  /** The ceiling in dBFS: the show's maxLevel, lowered by quiet hours. */
  levelCap: number;
  /** Inside quiet hours. */
  quiet: boolean;
}

/** Where a playlist is: which entry, since when. The state file keeps it. */
export interface PlaylistCursor {
  playlist: string;
  index: number;
  /** Epoch ms the entry started (on schedule: a `for` entry ends exactly `for` later). */
  startedAt: number;
}

/** What should play now. */
export interface ShowNow extends ShowPlan {
  /** Undefined while the show is off. */
  cursor?: PlaylistCursor;
  entry?: ShowEntry;
}

/**
 * The schedule of one show. Cron look-ups are slow (about 1 ms), so the on/off
 * state is kept with the instant of the next change and recomputed only past
 * it; any `t` may be asked, in any order.
 */
export class ShowSchedule {
  private readonly crons = new Map<string, Cron>();
  private onOff?: { from: number; until: number; on: boolean };

  constructor(readonly show: ShowFile) {}

  private cron(when: string): Cron {
    const pattern = cronPattern(when);
    let c = this.crons.get(pattern);
    if (!c) {
      c = new Cron(pattern, { timezone: this.show.timezone, paused: true });
      this.crons.set(pattern, c);
    }
    return c;
  }

  /** The entries of a playlist by name. */
  entries(playlist: string): ShowEntry[] {
    return playlist === MAIN_PLAYLIST ? this.show.playlist : (this.show.playlists[playlist] ?? this.show.playlist);
  }

  /** Whether the show is on at `t`: the last on came after the last off. */
  isOn(t: number): boolean {
    const s = this.show.schedule;
    if (!s?.on || !s.off) return true;
    const cached = this.onOff;
    if (cached && t >= cached.from && t < cached.until) return cached.on;
    // croner's previous run is strictly before its reference: +1 ms makes "at 08:00" count.
    const ref = new Date(t + 1);
    const lastOn = this.cron(s.on).previousRuns(1, ref)[0]?.getTime() ?? -Infinity;
    const lastOff = this.cron(s.off).previousRuns(1, ref)[0]?.getTime() ?? -Infinity;
    const nextOn = this.cron(s.on).nextRun(new Date(t))?.getTime() ?? Infinity;
    const nextOff = this.cron(s.off).nextRun(new Date(t))?.getTime() ?? Infinity;
    const on = lastOn > lastOff;
    this.onOff = { from: Math.max(lastOn, lastOff), until: Math.min(nextOn, nextOff), on };
    return on;
  }

  /** The schedule's answer at `t`: on or off, which playlist, the level cap. */
  plan(t: number): ShowPlan {
    const show = this.show;
    const local = localTime(t, show.timezone);
    let levelCap = show.maxLevel;
    let quiet = false;
    for (const q of show.schedule?.quiet ?? []) {
      if (inWindow(local, parseTimeOfDay(q.from)!, parseTimeOfDay(q.to)!, q.days)) {
        quiet = true;
        levelCap = Math.min(levelCap, q.maxLevel);
      }
    }
    let playlist = MAIN_PLAYLIST;
    for (const r of show.schedule?.rules ?? []) {
      if (r.days && !r.days.includes(WEEKDAYS[local.weekday]!)) continue;
      if (r.months && !r.months.includes(MONTHS[local.month]!)) continue;
      if (r.season && !r.season.includes(seasonOf(local.month, show.hemisphere))) continue;
      // Five-field patterns match second 0: ask for the minute.
      if (r.cron && !this.cron(r.cron).match(new Date(Math.floor(t / 60_000) * 60_000))) continue;
      playlist = r.playlist;
      break;
    }
    return { on: this.isOn(t), playlist, levelCap, quiet };
  }

  /** When an entry that started at `startedAt` ends by time (Infinity for thresholds and single entries). */
  entryEnd(entry: ShowEntry, startedAt: number): number {
    if (entry.for !== undefined) return startedAt + entry.for * 1000;
    if (typeof entry.until === 'string') return this.cron(entry.until).nextRun(new Date(startedAt))?.getTime() ?? Infinity;
    return Infinity;
  }

  /**
   * What plays at `t`, from where the playlist was (`cursor`, e.g. read from the
   * state file): a new playlist starts at its first entry; entries that ended
   * move it on (several when time jumped, e.g. after the machine was off); a
   * threshold entry ends once its stream is past the value. While the show is
   * off there is no cursor: the next on starts the playlist from the top.
   */
  at(t: number, cursor: PlaylistCursor | undefined, value: (stream: string) => number | undefined = () => undefined): ShowNow {
    const plan = this.plan(t);
    if (!plan.on) return plan;
    const list = this.entries(plan.playlist);
    let c: PlaylistCursor =
      cursor && cursor.playlist === plan.playlist && cursor.index < list.length && cursor.startedAt <= t ? { ...cursor } : { playlist: plan.playlist, index: 0, startedAt: t };
    if (list.length > 1) {
      // Whole cycles of a playlist of durations are skipped at once.
      const cycle = list.every((e) => e.for !== undefined) ? list.reduce((s, e) => s + e.for! * 1000, 0) : 0;
      for (let steps = 0; steps < 4 * list.length; steps++) {
        const entry = list[c.index]!;
        let end = this.entryEnd(entry, c.startedAt);
        if (end === Infinity && typeof entry.until === 'object') {
          const v = value(entry.until.stream);
          const past = v !== undefined && (entry.until.above !== undefined ? v > entry.until.above : v < entry.until.below!);
          if (past && t - c.startedAt >= MIN_THRESHOLD_PLAY_MS) end = t;
        }
        if (t < end) break;
        if (cycle > 0 && c.index === 0 && t - c.startedAt >= cycle) c.startedAt += Math.floor((t - c.startedAt) / cycle) * cycle;
        else c = { playlist: c.playlist, index: (c.index + 1) % list.length, startedAt: end };
      }
    }
    return { ...plan, cursor: c, entry: list[c.index] };
  }
}

/** Inside a window from `from` to `to` minutes (past midnight when to ≤ from) that starts on `days`. */
function inWindow(local: LocalTime, from: number, to: number, days?: readonly string[]): boolean {
  const today = WEEKDAYS[local.weekday]!;
  const yesterday = WEEKDAYS[(local.weekday + 6) % 7]!;
  const startsOn = (d: string) => !days || days.includes(d);
  if (from < to) return local.minute >= from && local.minute < to && startsOn(today);
  return (local.minute >= from && startsOn(today)) || (local.minute < to && startsOn(yesterday));
}
