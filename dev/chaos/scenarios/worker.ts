/**
 * Worker and platform faults (issue 10, "Faults to inject and survive"): the `rdd worker` process
 * SIGKILLed at each stage of a detection (from the S3 read to the result write), SIGTERMed while uploads run, the emulator restarted
 * mid-batch (every task dropped), and a soak with seeded faulty platform answers. Each scenario
 * starts its own parts (dev/chaos/infra-parts.ts: Temporal on SQLite, versitygw, the emulator in this
 * process, worker child processes under a supervisor that starts a new one when one dies) on
 * 127.0.0.1, and measures what dev/chaos/scenario.ts asks. Development tool: not shipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../stack/process.ts';
import type { EmulatorFaults } from '../../emulator/index.ts';
import {
  settle,
  startInfra,
  startPairs,
  watchProgress,
  type InfraOptions,
  type InfraParts,
  type ProgressWatch,
} from '../infra-parts.ts';
import type { ChaosContext, ChaosOutcome, ChaosScenario } from '../scenario.ts';

/** How long a scenario's workflows may take to settle after the fault (ms). */
const SETTLE_MS = { quick: 4 * 60_000, full: 8 * 60_000 } as const;
/** The longest wait for a stage to be reached before the fault is injected (ms). */
const STAGE_WAIT_MS = 120_000;

/** What a scenario does once its detections are started: injects the fault, returns when it ended. */
type Fault = (
  parts: InfraParts,
  watch: ProgressWatch,
) => Promise<{ faultEnded: number | null; notes: string[] }>;

/** The frame of every scenario: parts up, detections started, fault, settle, measure, close. */
async function run(
  ctx: ChaosContext,
  name: string,
  pairs: number,
  options: InfraOptions & { faults?: EmulatorFaults },
  fault: Fault,
): Promise<ChaosOutcome> {
  const began = Date.now();
  ctx.log(`${name}: starting Temporal, versitygw, the emulator and a worker`);
  const parts = await startInfra(ctx, options);
  const watch = watchProgress(parts);
  try {
    if (options.faults) parts.emulator.setFaults(options.faults);
    const batch = await startPairs(parts, name, pairs);
    ctx.log(`${name}: ${pairs} detections started`);
    const { faultEnded, notes } = await fault(parts, watch);
    ctx.log(`${name}: fault over; waiting for every detection to settle`);
    const outcome = await settle(parts, batch, ctx.quick ? SETTLE_MS.quick : SETTLE_MS.full);
    outcome.recoverySeconds = faultEnded === null ? null : watch.recoverySeconds(faultEnded);
    const injected = Object.entries(parts.emulator.faultsInjected());
    if (injected.length > 0)
      notes.push(`emulator faults injected: ${injected.map(([kind, n]) => `${kind} ×${n}`).join(', ')}`);
    outcome.notes.push(...notes, ...parts.workers.unexpectedExits);
    outcome.seconds = Math.round((Date.now() - began) / 100) / 10;
    ctx.log(
      `${name}: ${outcome.completed}/${outcome.started} completed, ${outcome.failed.length} failed, ` +
        `${outcome.stuck} stuck, ${outcome.duplicateSubmissions} duplicate submissions`,
    );
    return outcome;
  } finally {
    watch.stop();
    await parts.close();
  }
}

/** Polls `ready` every 50 ms until it holds. @throws Error naming `what` after STAGE_WAIT_MS. */
async function until(what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + STAGE_WAIT_MS;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`stage not reached in ${STAGE_WAIT_MS / 1000} s: ${what}`);
    await sleep(50);
  }
}

/** How long a worker may take to exit after SIGTERM before the scenario SIGKILLs it (ms). */
const EXIT_WAIT_MS = 90_000;

/**
 * Sends `signal` to every worker (SIGKILL: its process group); resolves once they all exited, or
 * after EXIT_WAIT_MS with `exited: false` (the workers are then SIGKILLed).
 */
async function signalWorkers(
  parts: InfraParts,
  signal: NodeJS.Signals,
): Promise<{ pids: number[]; exitMs: number; exited: boolean }> {
  const pids = parts.workers.pids();
  const sent = Date.now();
  for (const pid of pids) process.kill(signal === 'SIGKILL' ? -pid : pid, signal);
  while (pids.some(isAlive)) {
    if (Date.now() - sent > EXIT_WAIT_MS) {
      for (const pid of pids.filter(isAlive)) process.kill(-pid, 'SIGKILL');
      return { pids, exitMs: Date.now() - sent, exited: false };
    }
    await sleep(50);
  }
  return { pids, exitMs: Date.now() - sent, exited: true };
}

/** A worker SIGKILL once `stage` is reached; the supervisor starts a new worker. */
function sigkillAt(stage: string, reached: (parts: InfraParts, watch: ProgressWatch) => boolean): Fault {
  return async (parts, watch) => {
    await until(stage, () => reached(parts, watch));
    const jobs = parts.emulator.accounting().jobs;
    const at =
      `SIGKILL ${stage}: ${jobs.length} accepted by the platform, ` +
      `${jobs.filter((j) => j.finishedAt !== undefined).length} finished there, ${watch.results()} recorded`;
    await signalWorkers(parts, 'SIGKILL');
    return { faultEnded: Date.now(), notes: [at] };
  };
}

const noDuplicateSubmission = (stage: string) => (outcome: ChaosOutcome) =>
  outcome.duplicateSubmissions > 0
    ? [
        `${outcome.duplicateSubmissions} duplicate submission(s) after a SIGKILL ${stage}: only "after accept" may cause one`,
      ]
    : [];

const allRecorded = (outcome: ChaosOutcome): string[] =>
  outcome.completed === outcome.started
    ? []
    : [
        `${outcome.started - outcome.completed} of ${outcome.started} detections not recorded (must be 100 %)`,
      ];

const SIGKILL_PAIRS = { quick: 6, full: 12 } as const;
/** Slow enough that a job is still running on the platform when the worker dies. */
const SLOW_JOB: InfraOptions = { processingMs: 4_000 };

/** Bytes per second of a slow upload: a pair of the synthetic recordings takes a few seconds. */
const SLOW_UPLOAD_BPS = 60_000;
/** Bytes per second of a slow S3 read of one recording (~80 KB): about two seconds each. */
const SLOW_S3_READ_BPS = 40_000;

const sigkillScenario = (
  name: string,
  stage: string,
  description: string,
  options: InfraOptions & { faults?: EmulatorFaults },
  reached: (parts: InfraParts, watch: ProgressWatch) => boolean,
  duplicatesAllowed = false,
): ChaosScenario => ({
  name,
  description,
  quick: true,
  run: (ctx) => {
    const pairs = ctx.quick ? SIGKILL_PAIRS.quick : SIGKILL_PAIRS.full;
    // Every pair fits the platform's slots at once, so a stage is reached by all jobs together and a
    // duplicate submission cannot come from an upload of a later job still in flight.
    return run(ctx, name, pairs, { capacity: pairs, ...options }, sigkillAt(stage, reached));
  },
  check: (outcome) => [
    ...allRecorded(outcome),
    ...(duplicatesAllowed ? [] : noDuplicateSubmission(stage)(outcome)),
  ],
});

/** Every worker and platform scenario, in the order `npm run chaos` runs them. */
export const scenarios: ChaosScenario[] = [
  sigkillScenario(
    'worker-sigkill-during-s3-read',
    'during the S3 read',
    'The worker is SIGKILLed while it reads the recordings from S3 for the upload (whole-object reads ' +
      'served slowly by a proxy in front of versitygw, so the platform waits on S3), a new worker is ' +
      'started: every detection is recorded exactly once and no job is submitted twice.',
    { ...SLOW_JOB, slowS3ReadsBps: SLOW_S3_READ_BPS },
    (parts) => (parts.proxy?.slowReads().inFlight ?? 0) >= 2,
  ),
  sigkillScenario(
    'worker-sigkill-during-upload',
    'during the upload',
    'The worker is SIGKILLed while it uploads pairs to the platform (after the S3 read, slow uploads ' +
      'via the emulator), a new worker is started: every detection is recorded exactly once and no job ' +
      'is submitted twice (the cut uploads were never accepted).',
    { ...SLOW_JOB, faults: { slowUpload: { times: 1_000, bytesPerSecond: SLOW_UPLOAD_BPS } } },
    (parts) => (parts.emulator.faultsInjected()['submit:slow-upload'] ?? 0) >= 2,
  ),
  sigkillScenario(
    'worker-sigkill-after-accept',
    'right after the platform accepted a job',
    'The worker is SIGKILLed the moment the platform accepts the first job (before the worker can ' +
      'record its id), a new worker is started: every detection is recorded exactly once; the only ' +
      'stage where a duplicate submission is allowed (and counted).',
    SLOW_JOB,
    (parts) => parts.emulator.accounting().jobs.length >= 1,
    true,
  ),
  sigkillScenario(
    'worker-sigkill-while-waiting',
    'while waiting for the platform',
    'The worker is SIGKILLed while every job it submitted is still running on the platform ' +
      '(awaitDetectionJob), a new worker is started: the jobs are awaited again, not resubmitted; every ' +
      'detection recorded exactly once.',
    SLOW_JOB,
    (parts) => {
      const jobs = parts.emulator.accounting().jobs;
      return (
        jobs.length >= parts.emulator.accounting().capacity && jobs.every((j) => j.finishedAt === undefined)
      );
    },
  ),
  sigkillScenario(
    'worker-sigkill-while-checking',
    'while checking finished jobs',
    'The worker is SIGKILLed as soon as the platform finished the first job (the worker is polling / ' +
      'checking it), a new worker is started: no resubmission, every detection recorded exactly once.',
    SLOW_JOB,
    (parts) => parts.emulator.accounting().jobs.some((j) => j.finishedAt !== undefined),
  ),
  sigkillScenario(
    'worker-sigkill-while-writing',
    'while writing results',
    'The worker is SIGKILLed as soon as the first result object appears in S3 (others being checked or ' +
      'written; half the polls answer 503 so results come one by one), a new worker is started: no ' +
      'resubmission, exactly one result object per detection.',
    // Half the polls answered 503 (seeded) spread the workflows' retries, so their results are written
    // one after another rather than all at once, and the kill lands while some are still to be written.
    { processingMs: 1_000, faults: { rates: { seed: 1, poll5xx: 0.5 } } },
    (_parts, watch) => watch.results() >= 1,
  ),
  {
    name: 'worker-sigterm-during-uploads',
    description:
      'The worker gets SIGTERM while slow uploads to the platform run: the uploads finish within the ' +
      'shutdown grace time (nothing cancelled, no job submitted twice), the worker exits, a new one ' +
      'finishes the batch.',
    quick: true,
    run: (ctx) =>
      run(
        ctx,
        'worker-sigterm-during-uploads',
        ctx.quick ? 4 : 8,
        {
          capacity: 4,
          processingMs: 500,
          faults: { slowUpload: { times: 1_000, bytesPerSecond: SLOW_UPLOAD_BPS } },
        },
        async (parts) => {
          await until(
            'slow uploads running',
            () => (parts.emulator.faultsInjected()['submit:slow-upload'] ?? 0) >= 2,
          );
          const acceptedBefore = parts.emulator.accounting().jobs.length;
          const { exitMs, exited } = await signalWorkers(parts, 'SIGTERM');
          const acceptedAfter = parts.emulator.accounting().jobs.length;
          // Uploads begun before the worker exited (none may begin after SIGTERM), less those done before it.
          const uploading = parts.emulator.faultsInjected()['submit:slow-upload'] ?? 0;
          const inFlight = uploading - acceptedBefore;
          const finished = acceptedAfter - acceptedBefore;
          return {
            faultEnded: Date.now(),
            notes: [
              `SIGTERM grace: ${finished} of ${inFlight} upload(s) in flight finished before the worker exited ` +
                `(${(exitMs / 1000).toFixed(1)} s after SIGTERM)`,
              `sigterm-uploads ${finished}/${inFlight}`,
              ...(exited
                ? []
                : [
                    `worker still draining ${EXIT_WAIT_MS / 1000} s after SIGTERM (SIGKILLed): ` +
                      'an activity outlives the shutdown (see the worker log)',
                  ]),
            ],
          };
        },
      ),
    check: (outcome) => {
      const line = outcome.notes.find((n) => n.startsWith('sigterm-uploads '));
      const [finished, inFlight] = (line?.split(' ')[1] ?? '0/1').split('/').map(Number);
      return [
        ...allRecorded(outcome),
        ...noDuplicateSubmission('SIGTERM')(outcome),
        ...(inFlight === 0 ? ['no upload was in flight at SIGTERM: nothing was tested'] : []),
        ...outcome.notes.filter((n) => n.startsWith('worker still draining')),
        ...(finished === inFlight
          ? []
          : [`only ${finished} of ${inFlight} uploads finished within the grace time`]),
      ];
    },
  },
  {
    name: 'emulator-restart',
    description:
      'The platform (emulator) restarts mid-batch and forgets every task: polls of the lost jobs ' +
      'answer 404, the workflows resubmit them; every detection recorded exactly once (resubmissions ' +
      'counted as duplicate submissions, expected here).',
    quick: true,
    run: (ctx) =>
      run(
        ctx,
        'emulator-restart',
        ctx.quick ? 10 : 30,
        { capacity: 4, processingMs: 3_000 },
        async (parts) => {
          await until('half the jobs accepted', () => parts.emulator.accounting().jobs.length >= 4);
          const stats = parts.emulator.stats();
          parts.emulator.restart();
          return {
            faultEnded: Date.now(),
            notes: [
              `restart dropped ${stats.pending + stats.running} unfinished task(s) and ${stats.finished} finished`,
            ],
          };
        },
      ),
    check: allRecorded,
  },
  {
    name: 'soak-faulty-platform',
    description:
      'A soak of pairs (quick 60, full 300) against a platform answering ~18 % of requests or tasks ' +
      'faultily (seeded: submit 5xx/429/507, poll 5xx/429, tasks failed or vanished): 100 % recorded, 0 stuck.',
    quick: true,
    run: (ctx) =>
      run(
        ctx,
        'soak-faulty-platform',
        ctx.quick ? 60 : 300,
        {
          capacity: 8,
          processingMs: 300,
          faults: {
            rates: {
              seed: ctx.seed,
              submit5xx: 0.05,
              submit429: 0.04,
              submit507: 0.02,
              poll5xx: 0.04,
              poll429: 0.03,
              taskFailed: 0.03,
              taskVanish: 0.02,
            },
          },
        },
        // The faults are the rates, for the whole run: nothing more to inject.
        () => Promise.resolve({ faultEnded: null, notes: [] }),
      ),
    check: allRecorded,
  },
];
