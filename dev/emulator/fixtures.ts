/**
 * Fixtures let tests force a task's outcome by the content of its QUESTIONED file.
 *
 * Format (an object, or a JSON file holding one), keyed by the lowercase hex SHA-256 of the
 * questioned file's bytes (`sha256sum questioned.wav`):
 *
 * ```json
 * {
 *   "9f86d08…": { "score": 1.25 },                       // done, with this score instead of the computed one
 *   "60303ae…": { "score": null },                       // done, inconclusive
 *   "fd61a03…": { "state": "rejected", "message": "…" }, // every task ends rejected
 *   "a4e624d…": { "state": "failed" },                   // every task ends failed (type "internal")
 *   "4e07408…": { "failTimes": 2 },                      // the first 2 tasks end failed, later ones normally
 *   "2c26b46…": { "loseTimes": 1, "processingMs": 50 }   // the first task vanishes (404) when it would finish
 * }
 * ```
 *
 * Rules, per content hash, counted over the emulator's lifetime (an emulated appliance restart
 * does not reset them):
 * - task number n (0-based) with that content: `n < loseTimes` → lost; else
 *   `n < loseTimes + failTimes` → failed; else `state` if given; else done (`score` if the key is
 *   present, otherwise the computed score). So losses come first, then failures.
 * - lost and failed outcomes skip input validation (the appliance broke before looking); a forced
 *   `rejected` too. A forced `score` still validates the inputs (non-audio is still rejected).
 * - `processingMs` replaces the computed time spent `running` for every task with that content.
 * - `message` is the error message of forced `failed`/`rejected` outcomes.
 */
import { readFile } from 'node:fs/promises';

/** What a fixture can force for tasks whose questioned file has a given SHA-256. */
export interface TaskFixture {
  /** Every task (after `loseTimes`/`failTimes`) ends in this state. */
  state?: 'failed' | 'rejected';
  /** Error message for forced `failed`/`rejected` outcomes. */
  message?: string;
  /** Result score for `done` tasks, replacing the computed one (`null` = inconclusive). */
  score?: number | null;
  /** The first N tasks with this content end `failed`, then tasks behave normally. */
  failTimes?: number;
  /** The first N tasks with this content vanish (404) once they would finish, like an appliance restart. */
  loseTimes?: number;
  /** Milliseconds spent `running`, replacing the computed processing time. */
  processingMs?: number;
}

/** Fixtures by lowercase hex SHA-256 of the questioned file. */
export type FixtureMap = Record<string, TaskFixture>;

/** What the scheduler does with one task, decided when it is submitted. */
export type TaskPlan =
  | { outcome: 'lose'; processingMs?: number }
  | { outcome: 'fail'; message: string; processingMs?: number }
  | { outcome: 'reject'; message: string; processingMs?: number }
  | { outcome: 'normal'; forcedScore?: number | null; processingMs?: number };

/** Thrown for a malformed fixture map; the message names the entry and field. */
export class FixtureError extends Error {
  override name = 'FixtureError';
}

const DEFAULT_FAIL_MESSAGE =
  'Internal error while processing the task (emulated failure); an identical retry may succeed.';
const DEFAULT_REJECT_MESSAGE = 'The input was rejected while processing (emulated).';
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Validates a fixture map, lower-casing its keys.
 * @throws FixtureError naming the first bad key or field, prefixed with `source`.
 */
export function parseFixtures(value: unknown, source = 'fixtures'): Map<string, TaskFixture> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FixtureError(`${source}: expected an object keyed by SHA-256 hex`);
  }
  const result = new Map<string, TaskFixture>();
  for (const [rawKey, entry] of Object.entries(value)) {
    const key = rawKey.toLowerCase();
    const where = `${source}["${rawKey}"]`;
    if (!SHA256_HEX.test(key))
      throw new FixtureError(`${where}: key must be 64 hex digits (SHA-256 of the questioned file)`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new FixtureError(`${where}: expected an object`);
    const e = entry as Record<string, unknown>;
    const fixture: TaskFixture = {};
    if (e.state !== undefined) {
      if (e.state !== 'failed' && e.state !== 'rejected')
        throw new FixtureError(`${where}.state: must be "failed" or "rejected"`);
      fixture.state = e.state;
    }
    if (e.message !== undefined) {
      if (typeof e.message !== 'string') throw new FixtureError(`${where}.message: must be a string`);
      fixture.message = e.message;
    }
    if ('score' in e) {
      if (e.score !== null && (typeof e.score !== 'number' || !Number.isFinite(e.score))) {
        throw new FixtureError(`${where}.score: must be a finite number or null`);
      }
      fixture.score = e.score;
    }
    for (const field of ['failTimes', 'loseTimes', 'processingMs'] as const) {
      const n = e[field];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
        throw new FixtureError(`${where}.${field}: must be a non-negative integer`);
      fixture[field] = n;
    }
    result.set(key, fixture);
  }
  return result;
}

/**
 * Reads and validates a fixture JSON file.
 * @throws FixtureError when it cannot be read, is not JSON, or is malformed.
 */
export async function loadFixtureFile(path: string): Promise<Map<string, TaskFixture>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FixtureError(
      `cannot read fixtures file ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FixtureError(
      `fixtures file ${path} is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return parseFixtures(json, path);
}

/** The active fixtures plus how many tasks each content hash has had. */
export class FixtureBook {
  private fixtures: Map<string, TaskFixture>;
  private readonly seen = new Map<string, number>();

  constructor(fixtures: Map<string, TaskFixture> = new Map()) {
    this.fixtures = fixtures;
  }

  /** Adds or replaces fixtures; replaced hashes start counting tasks from zero again. */
  add(fixtures: Map<string, TaskFixture>): void {
    for (const [key, fixture] of fixtures) {
      this.fixtures.set(key, fixture);
      this.seen.delete(key);
    }
  }

  /** Decides the fate of the next task whose questioned file hashes to `sha256`; counts it. */
  planFor(sha256: string): TaskPlan {
    const fixture = this.fixtures.get(sha256);
    if (!fixture) return { outcome: 'normal' };
    const n = this.seen.get(sha256) ?? 0;
    this.seen.set(sha256, n + 1);
    const timing = fixture.processingMs === undefined ? {} : { processingMs: fixture.processingMs };
    const lose = fixture.loseTimes ?? 0;
    const fail = fixture.failTimes ?? 0;
    if (n < lose) return { outcome: 'lose', ...timing };
    if (n < lose + fail)
      return { outcome: 'fail', message: fixture.message ?? DEFAULT_FAIL_MESSAGE, ...timing };
    if (fixture.state === 'failed')
      return { outcome: 'fail', message: fixture.message ?? DEFAULT_FAIL_MESSAGE, ...timing };
    if (fixture.state === 'rejected')
      return { outcome: 'reject', message: fixture.message ?? DEFAULT_REJECT_MESSAGE, ...timing };
    return 'score' in fixture
      ? { outcome: 'normal', forcedScore: fixture.score ?? null, ...timing }
      : { outcome: 'normal', ...timing };
  }
}
