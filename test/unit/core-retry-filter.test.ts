/**
 * CoreRetryFilter: Core's gRPC retry warnings during a Temporal outage become one line when they
 * start, one summary a minute, one line when Temporal answers again; every other line passes.
 */
import type { LogLevel, LogMetadata } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { CORE_RETRY_TARGET, CoreRetryFilter } from '../../src/telemetry/core-retry-filter.ts';
import { JsonLogger } from '../../src/telemetry/json-logger.ts';

function setup() {
  let now = 1_000_000;
  const lines: { level: LogLevel; message: string; meta?: LogMetadata }[] = [];
  const downstream = new JsonLogger({ level: 'TRACE', write: () => undefined });
  downstream.log = (level, message, meta) => void lines.push({ level, message, meta });
  const filter = new CoreRetryFilter(downstream, {
    address: '127.0.0.1:7233',
    summaryEveryMs: 60_000,
    quietMs: 20_000,
    now: () => now,
    timer: false,
  });
  const retry = (n: number) =>
    filter.log('WARN', `gRPC call poll_workflow_task_queue retried ${n} times`, {
      sdkComponent: 'core',
      target: CORE_RETRY_TARGET,
      error: 'transport error',
    });
  return { filter, lines, retry, advance: (ms: number) => (now += ms) };
}

describe('CoreRetryFilter', () => {
  it('turns a minute and a half of retries at 60/s into three lines, then one when Temporal is back', () => {
    const { filter, lines, retry, advance } = setup();
    for (let i = 0; i < 90 * 60; i++) {
      retry(i + 1);
      advance(1000 / 60);
      filter.check();
    }
    expect(lines.map((l) => l.level)).toEqual(['WARN', 'WARN']);
    expect(lines[0]!.message).toMatch(
      /^Temporal at 127\.0\.0\.1:7233 is unreachable: gRPC calls are being retried/,
    );
    expect(lines[1]!.message).toMatch(/still unreachable after 60 s: \d+ gRPC call retries in the last 60 s/);
    // Quiet for less than quietMs: still an outage.
    advance(10_000);
    filter.check();
    expect(lines).toHaveLength(2);
    advance(15_000);
    filter.check();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ level: 'INFO' });
    expect(lines[2]!.message).toMatch(
      /^Temporal at 127\.0\.0\.1:7233 answers again: no gRPC call retried for 25 s \(5400 retries over 90 s\)/,
    );
    // A second outage is announced again.
    retry(1);
    expect(lines).toHaveLength(4);
    expect(lines[3]!.message).toContain('is unreachable');
  });

  it('passes every other line unchanged, core warnings of other targets included', () => {
    const { filter, lines } = setup();
    filter.log('WARN', 'gRPC call poll_workflow_task_queue retried 3 times', { target: 'something_else' });
    filter.warn('Task polling has encountered errors continuously', {
      target: 'temporalio_sdk_core::pollers',
    });
    filter.info('worker polling task queue q', { taskQueue: 'q' });
    filter.error('boom');
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['WARN', 'gRPC call poll_workflow_task_queue retried 3 times'],
      ['WARN', 'Task polling has encountered errors continuously'],
      ['INFO', 'worker polling task queue q'],
      ['ERROR', 'boom'],
    ]);
    filter.check();
    expect(lines).toHaveLength(4);
  });
});
