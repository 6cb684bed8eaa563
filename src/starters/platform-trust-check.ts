/**
 * `rdd worker`'s start-up check of the platform's TLS certificate: a certificate the worker does
 * not trust is a configuration problem (DETECTOR_CA_FILE), so the worker exits 2 at once instead of
 * retrying every detection's activities until someone reads their failures.
 */
import { DetectorTlsError } from '../activities/detector/detector-tls-error.ts';
import type { DetectorConfig } from '../config.ts';
import { detectorClientFromConfig } from '../worker.ts';
import { CliError, ExitCode } from './exit-codes.ts';

/**
 * Asks the platform for its system info once (`timeoutMs`, default 5 s) and throws only when its
 * certificate is refused; any other outcome (answer, refusal, timeout, platform down) passes, as
 * the workflows ride out a platform that is away. No-op for an `http:` URL. Idempotent.
 * @throws CliError exit 2 with DetectorTlsError's message (URL, TLS code, the fix).
 * @example await checkPlatformTrust(config.detector)
 */
export async function checkPlatformTrust(detector: DetectorConfig, timeoutMs = 5_000): Promise<void> {
  if (!detector.url.startsWith('https:')) return;
  const client = detectorClientFromConfig(detector);
  try {
    await client.systemInfo({ signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const refused = DetectorTlsError.from(err, client.baseUrl);
    if (refused) throw new CliError(ExitCode.Usage, refused.message, { cause: refused });
  } finally {
    await client.close();
  }
}
