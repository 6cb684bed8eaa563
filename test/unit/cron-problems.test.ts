/**
 * The local checks of a schedule's cron expression and time zone (src/client/cron-problems.ts),
 * made before Temporal is called, and the run estimate a backfill is refused on.
 */
import { describe, expect, it } from 'vitest';
import { cronProblems, estimatedCronRuns, timezoneProblem } from '../../src/client/cron-problems.ts';
import { batchScheduleSpecProblems, estimatedScheduleRuns } from '../../src/client/schedules.ts';

describe('cronProblems', () => {
  it('accepts what crons accept: values, ranges, lists, steps, names, macros', () => {
    for (const cron of [
      '0 2 * * *',
      '*/15 * * * *',
      '0,30 8-18 * * MON-FRI',
      '5 4 1 jan,jul *',
      '0 0 29 2 *',
      '0 12 * * 7',
      '@daily',
      '  0 2 * * *  ',
    ])
      expect(cronProblems(cron), cron).toEqual([]);
  });

  it('names the field, the value and its range', () => {
    expect(cronProblems('61 * * * *')).toEqual(['cron "61 * * * *": minute 61 is not in 0–59']);
    expect(cronProblems('0 24 * * *')).toEqual(['cron "0 24 * * *": hour 24 is not in 0–23']);
    expect(cronProblems('0 0 0 * *')).toEqual(['cron "0 0 0 * *": day of month 0 is not in 1–31']);
    expect(cronProblems('0 0 1 13 *')).toEqual(['cron "0 0 1 13 *": month 13 is not in 1–12']);
    expect(cronProblems('0 0 * * FUNDAY')).toEqual([
      'cron "0 0 * * FUNDAY": day of week FUNDAY is not in 0–7',
    ]);
    expect(cronProblems('0 5-70 * * *')).toEqual(['cron "0 5-70 * * *": hour 70 is not in 0–23']);
    expect(cronProblems('0 9-5 * * *')).toEqual(['cron "0 9-5 * * *": hour range 9-5 ends before it starts']);
    expect(cronProblems('*/0 * * * *')).toEqual([
      'cron "*/0 * * * *": minute step in "*/0" must be at least 1',
    ]);
    expect(cronProblems('every day')).toEqual([
      'cron "every day" must have 5 fields (minute hour day month weekday)',
    ]);
  });

  it('refuses a date that never happens (Feb 31), but not Feb 29 or a weekday alternative', () => {
    expect(cronProblems('0 2 31 2 *')).toEqual([
      'cron "0 2 31 2 *" never runs: no month in it (FEB) has day 31',
    ]);
    expect(cronProblems('0 2 30,31 2,4 *')).toEqual([]); // April 30
    expect(cronProblems('0 2 31 4,6 *')[0]).toMatch(/never runs: no month in it \(APR, JUN\) has day 31/);
    expect(cronProblems('0 2 31 2 MON')).toEqual([]); // standard cron: either day field
  });
});

describe('timezoneProblem', () => {
  it('knows IANA names and refuses others', () => {
    expect(timezoneProblem('Europe/Berlin')).toBeUndefined();
    expect(timezoneProblem('UTC')).toBeUndefined();
    expect(timezoneProblem('Mars/Olympus')).toMatch(
      /^timezone "Mars\/Olympus" is not a known IANA time zone/,
    );
  });
});

describe('batchScheduleSpecProblems', () => {
  it('checks the cron fields and the time zone before Temporal is called', () => {
    expect(batchScheduleSpecProblems({ cron: '61 * * * *', timezone: 'Mars/Olympus' })).toEqual([
      'cron "61 * * * *": minute 61 is not in 0–59',
      expect.stringMatching(/^timezone "Mars\/Olympus"/),
    ]);
    expect(batchScheduleSpecProblems({ cron: '0 2 * * *', timezone: 'America/New_York' })).toEqual([]);
  });
});

describe('estimated runs of a backfill window', () => {
  const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
  it('counts the days a cron allows times its minutes and hours', () => {
    expect(estimatedCronRuns('0 2 * * *', day('2025-01-01'), day('2025-01-10'))).toBe(10);
    expect(estimatedCronRuns('0,30 2 * * *', day('2025-01-01'), day('2025-01-10'))).toBe(20);
    // 2025-01-06 and 2025-01-13 are Mondays.
    expect(estimatedCronRuns('0 2 * * 1', day('2025-01-01'), day('2025-01-14'))).toBe(2);
    expect(estimatedCronRuns('@daily', day('2020-01-01'), day('2025-01-01'))).toBe(1828);
    expect(estimatedCronRuns('0 2 31 2 *', day('2020-01-01'), day('2025-01-01'))).toBe(0);
  });

  it('divides the window by an interval', () => {
    expect(estimatedScheduleRuns({ every: '24h' }, day('2025-01-01'), day('2025-01-11'))).toBe(11);
    expect(estimatedScheduleRuns({ every: '15m' }, day('2025-01-01'), day('2025-01-02'))).toBe(97);
    expect(estimatedScheduleRuns({ cron: '0 2 * * *' }, day('2025-01-01'), day('2025-01-10'))).toBe(10);
  });
});

describe('what Temporal refuses although crons or Intl accept it', () => {
  it('refuses the Quartz tokens L, W, # and ? in any field, naming the field', () => {
    expect(cronProblems('0 0 L * *')).toEqual([
      'cron "0 0 L * *": day of month "L": the Quartz tokens L, W and # are not supported by Temporal schedules',
    ]);
    expect(cronProblems('0 2 ? * *')).toEqual([
      'cron "0 2 ? * *": day of month "?": "?" is not supported by Temporal schedules (use *)',
    ]);
    expect(cronProblems('0 2 * * ?')[0]).toContain('day of week "?"');
    expect(cronProblems('0 2 15W * *')[0]).toContain('day of month "15W"');
    expect(cronProblems('0 2 * * 5L')[0]).toContain('day of week "5L"');
    // Names holding those letters are still names.
    expect(cronProblems('0 2 * JUL,APR WED')).toEqual([]);
  });

  it('refuses offsets and other spellings of a zone name, which Intl takes and Temporal does not', () => {
    expect(timezoneProblem('utc')).toBe('timezone "utc" must be spelled as the tz database does: UTC');
    expect(timezoneProblem('europe/berlin')).toBe(
      'timezone "europe/berlin" must be spelled as the tz database does: Europe/Berlin',
    );
    expect(timezoneProblem('+02:00')).toMatch(/^timezone "\+02:00" is an offset, not an IANA time zone name/);
    expect(timezoneProblem('-0500')).toMatch(/is an offset/);
    for (const zone of ['UTC', 'Etc/GMT+2', 'America/Port-au-Prince', 'Europe/Isle_of_Man', 'US/Pacific'])
      expect(timezoneProblem(zone), zone).toBeUndefined();
    expect(batchScheduleSpecProblems({ cron: '0 2 * * *', timezone: 'utc' })).toEqual([
      'timezone "utc" must be spelled as the tz database does: UTC',
    ]);
  });
});
