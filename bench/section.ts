/**
 * Each benchmark section runs in a child Node process of its own (`bench/child.ts`, with
 * `--expose-gc`), so its memory figures are that process's alone: not the sink's, not the stack
 * launcher's, not an earlier section's leftovers. The input goes as JSON in argv, the result comes
 * back over the IPC channel.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { ProbeInput, ProbeResult } from './probe.ts';
import type { SubmitInput, SubmitResult } from './submit.ts';
import type { UploadInput, UploadResult } from './upload.ts';
import type { WorkflowInput, WorkflowResult } from './workflow.ts';
import type { BatchBenchInput, BatchBenchResult } from './batch.ts';
import type { PollingInput, PollingResult } from './polling.ts';
import type {
  CostInput,
  CostResult,
  LatencyInput,
  LatencyResult,
  OverheadInput,
  OverheadResult,
  ThroughputInput,
  ThroughputResult,
} from './cases.ts';

/** The sections, their inputs and results. */
export interface Sections {
  upload: { input: UploadInput; result: UploadResult };
  submit: { input: SubmitInput; result: SubmitResult };
  probe: { input: ProbeInput; result: ProbeResult };
  workflow: { input: WorkflowInput; result: WorkflowResult };
  batch: { input: BatchBenchInput; result: BatchBenchResult };
  /** The issue-11 cases (bench/cases.ts); `streaming` is the submit measure with 1 GiB objects. */
  throughput: { input: ThroughputInput; result: ThroughputResult };
  latency: { input: LatencyInput; result: LatencyResult };
  overhead: { input: OverheadInput; result: OverheadResult };
  cost: { input: CostInput; result: CostResult };
  streaming: { input: SubmitInput; result: SubmitResult };
  /** Waiting with a heartbeating poll activity vs durable workflow timers (bench/polling.ts). */
  polling: { input: PollingInput; result: PollingResult };
}
export type SectionName = keyof Sections;

/** What a child sends back. */
export type SectionReply<T> = { ok: true; result: T } | { ok: false; error: string };

const CHILD = path.join(import.meta.dirname, 'child.ts');

/**
 * Runs one section in a fresh child process and returns its result.
 * @throws Error with the child's error, or when it exits without answering or overruns `timeoutMs`
 *   (it is then killed).
 * @example const { rows } = await runSection('probe', { formats: ['wav'], minutes: [1], repeats: 5 }, { env, timeoutMs: 60_000 });
 */
export function runSection<N extends SectionName>(
  name: N,
  input: Sections[N]['input'],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Sections[N]['result']> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [name, JSON.stringify(input)], {
      execArgv: ['--expose-gc'],
      env: options.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let reply: SectionReply<Sections[N]['result']> | undefined;
    const timer = setTimeout(() => {
      reject(new Error(`section ${name} did not finish within ${options.timeoutMs / 1000} s; killed it`));
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('message', (message) => {
      reply = message as SectionReply<Sections[N]['result']>;
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply?.ok) resolve(reply.result);
      else if (reply) reject(new Error(`section ${name} failed: ${reply.error}`));
      else reject(new Error(`section ${name} exited (${signal ?? code}) without a result`));
    });
  });
}
