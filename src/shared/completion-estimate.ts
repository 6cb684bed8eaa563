/**
 * The completion-time estimate that learns: how long the platform takes to process a pair, as
 * `base + rate × audio seconds`, fitted robustly to the jobs it finished, and the status-check
 * schedule built on it (sleep until shortly before the predicted finish, check densely around it,
 * then back off). Pure math: no I/O, importable from workflows. The capacity workflow keeps the
 * observations of its platform (durably, across continue-as-new); the `awaitDetectionJob` activity
 * follows the schedule and reports what it saw.
 */

/** A fitted model: processing seconds = `baseSeconds + perAudioSecond × audio seconds`. */
export interface CompletionModel {
  /** Fixed seconds per job (≥ 0). */
  baseSeconds: number;
  /** Seconds per second of audio (both files together, ≥ 0). */
  perAudioSecond: number;
  /** Observations the model was fitted to (0: the prior, nothing learnt yet). */
  samples: number;
  /**
   * Robust spread of the observations around the model, seconds (1.4826 × the median absolute
   * residual, an estimate of the standard deviation that outliers do not inflate); 0 without samples.
   */
  spreadSeconds: number;
}

/**
 * One finished job: the audio it had and when it finished, as a bracket of seconds after the
 * platform accepted it: `afterSeconds` is the last check that saw it unfinished (0 when none did),
 * `beforeSeconds` the first check that saw it terminal. The true finish lies in between.
 */
export interface CompletionObservation {
  audioSeconds: number;
  afterSeconds: number;
  beforeSeconds: number;
}

/**
 * Today's assumption before anything is learnt (the defaults of `PollingPolicy.firstCheckBase` and
 * `firstCheckPerAudioSecond`): 2 s + 0.1 s per audio second.
 */
export const DEFAULT_COMPLETION_MODEL: CompletionModel = {
  baseSeconds: 2,
  perAudioSecond: 0.1,
  samples: 0,
  spreadSeconds: 0,
};

/** Observations kept per platform (the newest): enough for a robust fit, few enough to follow a change. */
export const COMPLETION_WINDOW = 50;

/** Audio lengths closer than this (s) give no slope: their difference is noise, not signal. */
const MIN_SLOPE_SPAN_SECONDS = 1;

/**
 * The point estimate of one observation: the middle of its bracket (unbiased when the finish is
 * equally likely anywhere in it).
 * @example observedSeconds({ audioSeconds: 10, afterSeconds: 2.8, beforeSeconds: 3.0 }) // 2.9
 */
export function observedSeconds(observation: CompletionObservation): number {
  return (Math.max(0, observation.afterSeconds) + observation.beforeSeconds) / 2;
}

/**
 * Appends an observation and keeps the newest `COMPLETION_WINDOW`. Returns a new array; invalid
 * observations (negative, non-finite, an inverted bracket) are dropped, so a bad report never
 * poisons the model.
 */
export function addObservation(
  window: readonly CompletionObservation[],
  observation: CompletionObservation,
): CompletionObservation[] {
  const { audioSeconds, afterSeconds, beforeSeconds } = observation;
  const valid =
    [audioSeconds, afterSeconds, beforeSeconds].every((n) => Number.isFinite(n) && n >= 0) &&
    beforeSeconds >= afterSeconds;
  if (!valid) return [...window];
  return [...window, { audioSeconds, afterSeconds, beforeSeconds }].slice(-COMPLETION_WINDOW);
}

/**
 * Observations in a row that must all disagree with the model of the older ones, on the same side,
 * before the older ones are dropped (`dropStaleRegime`).
 */
export const REGIME_CHANGE_RUN = 3;

/**
 * Drops the observations of a platform that has changed speed. The newest `REGIME_CHANGE_RUN`
 * observations are compared with the model fitted to the older ones; when every one of them lies
 * on the same side of it, outside a tolerance of max(2 × spread, 25 % of the prediction, 0.2 s),
 * only those newest ones are kept. Returns a new array (the same content when nothing changed).
 *
 * Why: the Theil–Sen fit ignores a minority of disagreeing jobs by design, so after an upgrade, a
 * reconfiguration or a change of load it would follow the platform only once half the window
 * (25 jobs) disagreed, and a model that predicts too long makes every job wait out the
 * prediction. A job **faster** than the model is one seen done before `prediction − tolerance`, or
 * one seen done at its very first check (`afterSeconds` 0) before the prediction: a confident
 * schedule's first check lands just before the prediction, so "already done" there means "done
 * at some unknown earlier time". A job **slower** is one last seen unfinished after
 * `prediction + tolerance`. Keeping only the newest observations also makes the model young again
 * (fewer than `confidentAfterSamples`), so the next jobs probe early and bracket tightly.
 * @example dropStaleRegime([...twentyObservationsAt10s, ...threeDoneAtFirstCheckOf10s]).length // 3
 */
export function dropStaleRegime(window: readonly CompletionObservation[]): CompletionObservation[] {
  if (window.length <= REGIME_CHANGE_RUN) return [...window];
  const newest = window.slice(-REGIME_CHANGE_RUN);
  const model = fitCompletionModel(window.slice(0, -REGIME_CHANGE_RUN));
  const sides = newest.map((observation) => sideOf(model, observation));
  const changed = sides.every((side) => side === 'faster') || sides.every((side) => side === 'slower');
  return changed ? [...newest] : [...window];
}

function sideOf(model: CompletionModel, observation: CompletionObservation): 'faster' | 'slower' | 'within' {
  const predicted = predict(model, observation.audioSeconds);
  const tolerance = Math.max(2 * model.spreadSeconds, 0.25 * predicted, 0.2);
  if (observation.afterSeconds > predicted + tolerance) return 'slower';
  if (observation.beforeSeconds < predicted - tolerance) return 'faster';
  if (observation.afterSeconds <= 0 && observation.beforeSeconds <= predicted) return 'faster';
  return 'within';
}

/**
 * Fits `base + rate × audio` to the observations, robustly:
 * - with audio lengths that differ by at least 1 s between some pairs and ≥ 3 observations, the
 *   Theil–Sen estimator (rate = median of the pairwise slopes; base = median of `y − rate × x`),
 *   which tolerates up to ~29 % outliers (Sen 1968);
 * - otherwise (one or two jobs, or all of one length) the prior scaled by the median ratio
 *   observed / prior-predicted, so the first job already corrects a platform 3× slower or faster.
 * Rate and base are never negative. Without observations, returns the prior (samples 0).
 * @example fitCompletionModel([{ audioSeconds: 10, afterSeconds: 8.8, beforeSeconds: 9.2 }]) // 3× the default
 */
export function fitCompletionModel(
  observations: readonly CompletionObservation[],
  prior: CompletionModel = DEFAULT_COMPLETION_MODEL,
): CompletionModel {
  const points = observations.map((o) => ({ x: o.audioSeconds, y: observedSeconds(o) }));
  const n = points.length;
  if (n === 0) return { ...prior, samples: 0, spreadSeconds: 0 };
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (Math.abs(dx) >= MIN_SLOPE_SPAN_SECONDS) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  let baseSeconds: number;
  let perAudioSecond: number;
  if (n >= 3 && slopes.length > 0) {
    perAudioSecond = Math.max(0, median(slopes));
    baseSeconds = Math.max(0, median(points.map(({ x, y }) => y - perAudioSecond * x)));
  } else {
    const ratios = points
      .map(({ x, y }) => y / predict(prior, x))
      .filter((r) => Number.isFinite(r) && r >= 0);
    const scale = ratios.length > 0 ? median(ratios) : 1;
    baseSeconds = prior.baseSeconds * scale;
    perAudioSecond = prior.perAudioSecond * scale;
  }
  const model = { baseSeconds, perAudioSecond, samples: n, spreadSeconds: 0 };
  const residuals = points.map(({ x, y }) => Math.abs(y - predict(model, x)));
  return { ...model, spreadSeconds: 1.4826 * median(residuals) };
}

/**
 * Predicted processing seconds of a job with `audioSeconds` of audio (both files), never below 0.
 * @example predictSeconds(DEFAULT_COMPLETION_MODEL, 80) // 10
 */
export function predictSeconds(model: CompletionModel, audioSeconds: number): number {
  return predict(model, audioSeconds);
}

function predict(model: Pick<CompletionModel, 'baseSeconds' | 'perAudioSecond'>, x: number): number {
  return Math.max(0, model.baseSeconds + model.perAudioSecond * x);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** How the status checks of one job are spread around its predicted finish (seconds). */
export interface CheckPlan {
  /** Checks while fewer observations than this were learnt also probe before the prediction. */
  confidentAfterSamples: number;
  /** First dense interval (s), e.g. 0.2. */
  denseInterval: number;
  /** Each dense interval is the previous one × this (slow growth), e.g. 1.15. */
  denseGrowth: number;
  /** Dense checks continue for this long after the predicted finish (s, at least). */
  denseWindow: number;
  /** After the dense window: from this interval (s)… */
  minInterval: number;
  /** …growing by this factor… */
  backoff: number;
  /** …up to this interval (s). */
  maxInterval: number;
  /**
   * While nothing is learnt (`samples` 0: the prior), the back-off interval is at most this
   * fraction of the time waited (and at least 2 × `minInterval`), e.g. 0.1.
   */
  priorBackoffFraction: number;
}

/** Defaults of the dense part of the schedule (the back-off part comes from `PollingPolicy`). */
export const DEFAULT_CHECK_PLAN: Omit<CheckPlan, 'minInterval' | 'backoff' | 'maxInterval'> = {
  confidentAfterSamples: 5,
  denseInterval: 0.2,
  denseGrowth: 1.15,
  denseWindow: 2,
  priorBackoffFraction: 0.1,
};

/**
 * When to check a job, in seconds after the platform accepted it: the `index`-th check (0-based),
 * given when the previous one was (`previous`, seconds; -1 before the first). Deterministic:
 * - the first check lands `lead` before the predicted finish, where `lead` = max(one dense
 *   interval, 2 × the model's spread): with a good model it sees the job unfinished and the next
 *   dense check sees it done, so the bracket (and the latency) is one dense interval wide;
 * - while the model is young (fewer than `confidentAfterSamples` observations) the first check
 *   probes at a quarter of the prediction and grows ×1.6 towards it, so a platform faster than
 *   assumed is still bracketed tightly (and learnt);
 * - from `lead` before the prediction to `denseWindow` (or 30 % of the prediction) after it, checks
 *   every `denseInterval` (or `lead` / 4 when the spread is wide), growing by `denseGrowth`; then `minInterval` × `backoff`ⁿ up to `maxInterval`;
 * - while nothing is learnt (`samples` 0, the prior), that back-off is capped at
 *   `priorBackoffFraction` (10 %) of the time waited, at least 2 × `minInterval`: the first jobs on
 *   a new platform then report a tight bracket, so the estimate every other waiting job follows is
 *   right from the first sample (measured: 3× slower row of `npm run bench -- --only latency`).
 *
 * The schedule may switch estimates between two checks (a waiting job whose platform learnt more):
 * `previous` and `previousInterval` are then those of the old schedule, and the next check follows
 * the new prediction. A check before the new window goes to the window's start (probing ×1.6 towards
 * it while the new model is young); a check inside the new window continues with a dense interval
 * no coarser than the window would have grown to by then (first + (`denseGrowth` − 1) × time in the
 * window), never with an inherited back-off interval; past the window, the back-off continues.
 * When the estimate never changes the sequence is the one above.
 * @example nextCheckAt({ predicted: 10, spreadSeconds: 0, samples: 9, plan, previous: -1, previousInterval: 0 }) // { at: 9.8, interval: 0 }
 */
export function nextCheckAt(args: CheckScheduleArgs): { at: number; interval: number } {
  const { predicted, spreadSeconds, samples, plan, previous, previousInterval } = args;
  const lead = Math.max(plan.denseInterval, 2 * spreadSeconds);
  const denseFrom = Math.max(0, predicted - lead);
  const denseUntil = predicted + Math.max(plan.denseWindow, 0.3 * predicted);
  if (previous < 0) {
    const probe = samples < plan.confidentAfterSamples ? predicted / 4 : denseFrom;
    const at = Math.max(Math.min(probe, denseFrom), plan.denseInterval / 2);
    return { at, interval: 0 };
  }
  if (previous < denseFrom) {
    // Probing a young model: ×1.6 towards the dense window, never past its start. A confident model
    // (the estimate changed under a waiting job) goes straight to the window.
    if (samples >= plan.confidentAfterSamples) return { at: denseFrom, interval: 0 };
    const at = Math.min(denseFrom, Math.max(previous * 1.6, previous + plan.denseInterval));
    return { at, interval: 0 };
  }
  if (previous < denseUntil) {
    // A wide spread gets a coarser start (four steps across the lead), not dozens of 0.2 s checks.
    const first = Math.max(plan.denseInterval, lead / 4);
    // Never coarser than the window's own progression has grown by now (first + (growth − 1) × time
    // spent in it): a job whose estimate changed carries a back-off interval of the old schedule.
    const grown = first + (plan.denseGrowth - 1) * (previous - denseFrom);
    const interval = previousInterval > 0 ? Math.min(previousInterval * plan.denseGrowth, grown) : first;
    return { at: previous + interval, interval };
  }
  // With the prior only, a coarse back-off would make the first finished job on a new platform a
  // poor teacher (its bracket, hence the first fit, as wide as the interval) and leave the jobs that
  // finish before it learnt waiting out the back-off; a tenth of the time waited keeps both tight.
  const maxInterval =
    samples === 0
      ? Math.min(plan.maxInterval, Math.max(2 * plan.minInterval, plan.priorBackoffFraction * previous))
      : plan.maxInterval;
  const interval =
    previousInterval > 0 && previousInterval >= plan.minInterval
      ? Math.min(maxInterval, previousInterval * plan.backoff)
      : Math.min(maxInterval, Math.max(plan.minInterval, previousInterval));
  return { at: previous + interval, interval };
}

/**
 * The next check of a waiting job whose estimate has just changed: `nextCheckAt` of the new
 * estimate (same `previous` and `previousInterval`), except that a **young** new estimate (fewer
 * than `plan.confidentAfterSamples` samples) never moves the check already scheduled (`pending`,
 * from the old estimate) later; a confident one may. Deterministic; the result may lie in the past
 * (check at once).
 *
 * Why: the first samples are fitted by scaling the prior (`fitCompletionModel`), which extrapolates
 * badly to other audio lengths when the platform's time does not grow with audio as the prior
 * assumes (a fixed 120 s job after one 40-audio-second job predicts 200 s at 80): pulling a check
 * earlier on such a model costs a check, pushing it later can cost a minute of latency.
 * @example rescheduleCheck({ predicted: 200, spreadSeconds: 0, samples: 1, plan, previous: 119, previousInterval: 30, pending: { at: 149, interval: 30 } }) // { at: 149, interval: 30 }
 */
export function rescheduleCheck(
  args: CheckScheduleArgs & {
    /** The check scheduled from the old estimate (not yet made). */
    pending: { at: number; interval: number };
  },
): { at: number; interval: number } {
  const { pending, ...rest } = args;
  const next = nextCheckAt(rest);
  return args.samples < args.plan.confidentAfterSamples && pending.at < next.at ? pending : next;
}

/** What `nextCheckAt` and `rescheduleCheck` schedule from (seconds after the platform accepted the job). */
export interface CheckScheduleArgs {
  /** Predicted processing seconds of the job. */
  predicted: number;
  spreadSeconds: number;
  samples: number;
  plan: CheckPlan;
  /** Seconds after acceptance of the previous check; -1 before the first. */
  previous: number;
  /** The interval used before the previous check (s); 0 before the first. */
  previousInterval: number;
}

/** True when two models are the same in every field (base, rate, samples, spread). Pure. */
export function sameCompletionModel(a: CompletionModel, b: CompletionModel): boolean {
  return (
    a.baseSeconds === b.baseSeconds &&
    a.perAudioSecond === b.perAudioSecond &&
    a.samples === b.samples &&
    a.spreadSeconds === b.spreadSeconds
  );
}
