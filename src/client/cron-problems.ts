/**
 * Checks of a schedule's cron expression and time zone made before Temporal is called, so a bad
 * field is an `InvalidScheduleError` (CLI exit 2 naming `--cron`/`--timezone`) rather than the
 * server's `TypeError`. Pure (the time zone check asks the runtime's `Intl` data).
 */

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** The 5 fields, minute first (7 is Sunday too, as in most crons). */
const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

/** Days in each month, February at its longest (29). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

const MACRO = /^@(yearly|annually|monthly|weekly|daily|hourly)$/;

/** A value of a field (a number or a name), or undefined when it is neither. */
function fieldValue(text: string, rule: FieldRule): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  return index === -1 ? undefined : index + (rule.name === 'month' ? 1 : 0);
}

/**
 * The values one field selects, or its problems. Quartz-style tokens (`L`, `W`, `#`, `?`), which
 * Temporal's cron parser refuses, are problems here.
 */
function parseField(text: string, rule: FieldRule): { values?: Set<number>; problems: string[] } {
  const problems: string[] = [];
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item.includes('?')) {
      problems.push(`${rule.name} "${item}": "?" is not supported by Temporal schedules (use *)`);
      continue;
    }
    if (/[LW#]/i.test(item) && !rule.names?.some((n) => item.toUpperCase().includes(n))) {
      problems.push(
        `${rule.name} "${item}": the Quartz tokens L, W and # are not supported by Temporal schedules`,
      );
      continue;
    }
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!match) {
      problems.push(`${rule.name} "${item}" is not a value, range, list or step`);
      continue;
    }
    const [, start, end, step] = match;
    let low = rule.min;
    let high = rule.max;
    if (start !== '*') {
      const value = fieldValue(start!, rule);
      if (value === undefined || value < rule.min || value > rule.max) {
        problems.push(`${rule.name} ${start} is not in ${rule.min}–${rule.max}`);
        continue;
      }
      low = value;
      high = end === undefined && step === undefined ? value : rule.max;
    } else if (end !== undefined) {
      problems.push(`${rule.name} "${item}": a range cannot start at ${start}`);
      continue;
    }
    if (end !== undefined) {
      const value = fieldValue(end, rule);
      if (value === undefined || value < rule.min || value > rule.max) {
        problems.push(`${rule.name} ${end} is not in ${rule.min}–${rule.max}`);
        continue;
      }
      if (value < low) {
        problems.push(`${rule.name} range ${item} ends before it starts`);
        continue;
      }
      high = value;
    }
    const by = step === undefined ? 1 : Number(step);
    if (by < 1) {
      problems.push(`${rule.name} step in "${item}" must be at least 1`);
      continue;
    }
    for (let v = low; v <= high; v += by) values.add(v);
  }
  return { values, problems };
}

/**
 * Everything wrong with a 5-field cron expression (minute hour day-of-month month day-of-week) or
 * an `@daily`-style macro; empty when usable. Checks each field's syntax and range, and that a
 * day-of-month/month pair can happen at all (`0 2 31 2 *`, Feb 31, never runs). Messages start with
 * `cron "<expression>"`. Pure.
 * @example cronProblems('61 * * * *') // ['cron "61 * * * *": minute 61 is not in 0–59']
 */
export function cronProblems(cron: string): string[] {
  const text = cron.trim();
  const label = `cron ${JSON.stringify(cron)}`;
  if (MACRO.test(text)) return [];
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return [`${label} must have 5 fields (minute hour day month weekday)`];
  const parsed = fields.map((field, i) => parseField(field, FIELDS[i]!));
  const problems = parsed.flatMap((p) => p.problems);
  if (problems.length > 0) return problems.map((p) => `${label}: ${p}`);
  const days = parsed[2]!.values;
  const months = parsed[3]!.values;
  const weekdayFree = fields[4] === '*' || fields[4] === '?';
  if (days && months && weekdayFree && fields[2] !== '*' && fields[2] !== '?') {
    const possible = [...months].some((m) => [...days].some((d) => d <= MONTH_DAYS[m - 1]!));
    if (!possible)
      return [
        `${label} never runs: no month in it (${[...months].map((m) => MONTHS[m - 1]).join(', ')}) has day ${[...days].join(', ')}`,
      ];
  }
  return [];
}

/**
 * What is wrong with an IANA time zone name (undefined when usable). The name must be one the
 * runtime knows, spelled as the tz database spells it: Temporal loads zones by exact name, so the
 * offsets (`+02:00`) and other case spellings (`utc`, `europe/berlin`) that `Intl` accepts are
 * refused here too, with the name to use where there is one. Pure.
 * @example timezoneProblem('Mars/Olympus') // 'timezone "Mars/Olympus" is not a known IANA time zone …'
 */
export function timezoneProblem(timezone: string): string | undefined {
  const label = `timezone ${JSON.stringify(timezone)}`;
  if (/^[+\-\u2212]?\d/.test(timezone) || /^[+-]/.test(timezone))
    return `${label} is an offset, not an IANA time zone name: use a zone with its summer time (Europe/Berlin) or a fixed one (Etc/GMT-2 is UTC+2, the sign inverted)`;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return `${label} is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`;
  }
  if (resolved !== timezone && resolved.toLowerCase() === timezone.toLowerCase())
    return `${label} must be spelled as the tz database does: ${resolved}`;
  if (!timezone.split('/').every((segment) => /^[A-Z]/.test(segment)))
    return `${label} must be spelled as the tz database does, each part capitalised (e.g. Europe/Berlin, UTC)`;
  return undefined;
}

/**
 * About how many times a 5-field cron expression fires in `[from, to]`: for every UTC day of the
 * window that its day-of-month, month and day-of-week fields allow (standard cron: when both day
 * fields are restricted, either one matching is enough), the number of minute × hour combinations.
 * Days at the window's ends count whole, so this is an upper estimate; the time zone is ignored.
 * `undefined` for a macro or an expression `cronProblems` refuses or cannot expand. Pure.
 * @example estimatedCronRuns('0 2 * * *', new Date('2025-01-01Z'), new Date('2025-01-11Z')) // 11
 */
export function estimatedCronRuns(cron: string, from: Date, to: Date): number | undefined {
  const macro = MACRO.exec(cron.trim());
  const fields = macro
    ? (
        {
          yearly: '0 0 1 1 *',
          annually: '0 0 1 1 *',
          monthly: '0 0 1 * *',
          weekly: '0 0 * * 0',
          daily: '0 0 * * *',
          hourly: '0 * * * *',
        } as const
      )[macro[1] as 'daily'].split(' ')
    : cron.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const sets = fields.map((field, i) => parseField(field, FIELDS[i]!).values);
  if (sets.some((set) => set === undefined)) return undefined;
  const [minutes, hours, days, months, weekdays] = sets as Set<number>[];
  const daysFree = fields[2] === '*' || fields[2] === '?';
  const weekdaysFree = fields[4] === '*' || fields[4] === '?';
  const perDay = minutes!.size * hours!.size;
  let runs = 0;
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day.getTime() <= to.getTime(); day.setUTCDate(day.getUTCDate() + 1)) {
    if (!months!.has(day.getUTCMonth() + 1)) continue;
    const weekday = day.getUTCDay();
    const domOk = days!.has(day.getUTCDate());
    const dowOk = weekdays!.has(weekday) || (weekday === 0 && weekdays!.has(7));
    const ok = daysFree ? dowOk : weekdaysFree ? domOk : domOk || dowOk;
    if (ok) runs += perDay;
  }
  return runs;
}
