/**
 * How a batch words the failure of one of its pairs in the report: the detection's message speaks
 * of `rdd detect`'s options, which a manifest user does not have. Pure; importable from workflows.
 */
import { FailureType } from './failure-types.ts';

/** What a batch row says about a pair cancelled with the batch while it ran. */
export const CANCELLED_PAIR_MESSAGE = 'cancelled with the batch before its detection finished';

/**
 * The message a batch row carries for a failed pair: a channel failure of inspection
 * (`MediaChannelRequired`, `MediaChannelOutOfRange`) names the manifest column that chooses the
 * channel (`questioned_channel` / `reference_channel`) instead of "its channel option"; in a
 * prefix batch, where no questioned channel can be given, it says to use a manifest. Any other
 * failure keeps its message.
 * @example batchFailureMessage('MediaChannelRequired', 'questioned s3://b/k has 2 channels; choose one (0–1) with its channel option', 'manifest')
 *   // 'questioned s3://b/k has 2 channels; choose one (0–1) in the manifest column questioned_channel'
 */
export function batchFailureMessage(type: string, message: string, source: 'manifest' | 'prefix'): string {
  if (type !== FailureType.MediaChannelRequired && type !== FailureType.MediaChannelOutOfRange)
    return message;
  const role = /^(reference|questioned)\b/.exec(message)?.[1];
  if (role === undefined) return message;
  const column = `${role}_channel`;
  const where =
    source === 'manifest'
      ? `in the manifest column ${column}`
      : role === 'questioned'
        ? `in a manifest with a ${column} column (a prefix batch cannot choose the questioned channel)`
        : 'with the reference channel of the batch input';
  if (message.includes('with its channel option')) return message.replace('with its channel option', where);
  return `${message}; choose the channel ${where}`;
}
