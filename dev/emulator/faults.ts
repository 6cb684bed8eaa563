/**
 * Injected HTTP faults for client tests: "answer the next N submits with 429", and the like.
 */
import { ApiError, errorTypeForStatus } from './api-error.ts';
import type { EmulatorFaults, Fault } from './options.ts';

const MESSAGES: Record<number, string> = {
  429: 'Too many requests (emulated rate limit).',
  500: 'Internal server error (emulated).',
  502: 'Bad gateway (emulated).',
  503: 'Service unavailable (emulated).',
  507: 'The temporary input storage is full (emulated).',
};

/** Holds the remaining faults; each request of a kind consumes one. */
export class FaultInjector {
  private faults: EmulatorFaults;

  constructor(faults: EmulatorFaults = {}) {
    this.faults = clone(faults);
  }

  /** Replaces all faults. */
  set(faults: EmulatorFaults): void {
    this.faults = clone(faults);
  }

  /** The error to answer this request with, if a fault of `kind` remains; consumes it. */
  take(kind: keyof EmulatorFaults): ApiError | undefined {
    const fault: Fault<number> | undefined = this.faults[kind];
    if (!fault || fault.times <= 0) return undefined;
    fault.times--;
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    if (fault.status === 429) {
      headers['x-ratelimit-limit'] = '10';
      headers['x-ratelimit-remaining'] = '0';
      headers['x-ratelimit-reset'] = String(fault.retryAfterSeconds ?? 1);
    }
    return new ApiError(
      fault.status,
      errorTypeForStatus(fault.status),
      MESSAGES[fault.status] ?? `Emulated ${fault.status}.`,
      { headers },
    );
  }
}

function clone(faults: EmulatorFaults): EmulatorFaults {
  const copy: EmulatorFaults = {};
  if (faults.submitStatus) copy.submitStatus = { ...faults.submitStatus };
  if (faults.pollStatus) copy.pollStatus = { ...faults.pollStatus };
  return copy;
}
