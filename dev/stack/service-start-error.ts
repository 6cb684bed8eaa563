/** Thrown when a stack service exits during start-up or does not become healthy in time. */
export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
  /** The service that failed, e.g. `temporal`. */
  readonly service: string;
  /** Its log file, whose last lines are part of the message. */
  readonly logFile: string;
  constructor(service: string, reason: string, logFile: string, logTail: string) {
    const tail = logTail.trim()
      ? `\n--- last lines of ${logFile} ---\n${logTail.trimEnd()}`
      : ` (log: ${logFile})`;
    super(`${service} did not start: ${reason}${tail}`);
    this.service = service;
    this.logFile = logFile;
  }
}
