import { Context } from '@temporalio/activity';
import type { PlatformInfo } from '../shared/activity-types.ts';
import type { DetectorClient } from './detector/types.ts';

/**
 * Activity `getPlatformInfo`: the platform's URL and version, for the result document. Never
 * fails a detection over a record-keeping detail: when the platform will not say (an error, an
 * older appliance), `version` is `null` and a warning is logged. Idempotent: one GET.
 * Registered bound to its deps by `createActivities`; call it directly only under
 * `MockActivityEnvironment`.
 * @example await new MockActivityEnvironment().run(getPlatformInfo, { detector }) // { url, version: '4.1.0' }
 */
export async function getPlatformInfo({ detector }: { detector: DetectorClient }): Promise<PlatformInfo> {
  const { cancellationSignal: signal, log } = Context.current();
  try {
    const { version } = await detector.systemInfo({ signal });
    return { url: detector.baseUrl, version };
  } catch (err) {
    log.warn('platform version unavailable', { error: (err as Error).message });
    return { url: detector.baseUrl, version: null };
  }
}
