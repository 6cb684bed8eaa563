/**
 * The worker's logger: one JSON object per line, every line through the redaction step. It is the
 * Temporal Runtime's logger, so the SDK's own messages, the forwarded Core logs and every
 * activity and workflow log (`Context.current().log`, `log` from `@temporalio/workflow`) come
 * through here with the SDK's attributes (workflowId, runId / workflowRunId, activityType, …).
 */
import { LogTimestamp, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { createRedactor, type Redactor, sanitizeMeta } from './redact.ts';

/** The levels in order; a logger drops what is below its own. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const satisfies readonly LogLevel[];

/** Options of JsonLogger. */
export interface JsonLoggerOptions {
  /** Lowest level written (default INFO). */
  level?: LogLevel;
  /** Applied to each serialised line (default: the generic rules only, no known secrets). */
  redact?: Redactor;
  /** Where lines go, one call per line with its `\n` (default: process.stdout). */
  write?: (line: string) => void;
}

/**
 * A Temporal `Logger` whose five level methods all go through `log`: a subclass writes `log` only.
 * @example class Counting extends LevelLogger { n = 0; log() { this.n += 1; } }
 */
export abstract class LevelLogger implements Logger {
  abstract log(level: LogLevel, message: string, meta?: LogMetadata): void;

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * A Temporal `Logger` writing `{"time","level","message",...meta}` lines. The SDK's names are
 * normalised so that every line of one detection can be found by the same keys: `workflowId`,
 * `runId` (the SDK's `workflowRunId` for activities), `activityType`, `platformJobId` (from our
 * activity log interceptor, or a `jobId` in the meta). Metadata keys that name credentials are
 * dropped (see sanitizeMeta) and the whole line goes through `redact`. Never throws.
 * @example Runtime.install({ logger: new JsonLogger({ level: 'INFO', redact: createRedactor(secretsFromEnv(process.env)) }) })
 */
export class JsonLogger extends LevelLogger {
  readonly #threshold: number;
  readonly #redact: Redactor;
  readonly #write: (line: string) => void;

  constructor(options: JsonLoggerOptions = {}) {
    super();
    this.#threshold = LOG_LEVELS.indexOf(options.level ?? 'INFO');
    this.#redact = options.redact ?? createRedactor([]);
    this.#write = options.write ?? ((line) => void process.stdout.write(line));
  }

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (LOG_LEVELS.indexOf(level) < this.#threshold) return;
    try {
      this.#write(`${this.#redact(this.format(level, message, meta))}\n`);
    } catch {
      // A log line that cannot be written must not take an activity or the worker down.
    }
  }

  private format(level: LogLevel, message: string, meta: LogMetadata): string {
    const timestamp = (meta as { [LogTimestamp]?: unknown })[LogTimestamp];
    const time =
      typeof timestamp === 'bigint'
        ? new Date(Number(timestamp / 1_000_000n)).toISOString()
        : new Date().toISOString();
    const fields = sanitizeMeta({ ...meta }) as Record<string, unknown>;
    // One name per thing across workflow, activity and our own lines.
    if (fields.runId === undefined && fields.workflowRunId !== undefined) fields.runId = fields.workflowRunId;
    delete fields.workflowRunId;
    if (fields.platformJobId === undefined && typeof fields.jobId === 'string')
      fields.platformJobId = fields.jobId;
    delete fields.jobId;
    const line: Record<string, unknown> = { time, level: level.toLowerCase(), message };
    for (const [key, value] of Object.entries(fields)) if (!(key in line)) line[key] = value;
    return JSON.stringify(line);
  }
}
