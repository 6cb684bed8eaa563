/**
 * Keeps the values of the configured extra headers (DETECTOR_HEADERS: bearer tokens, API keys) out
 * of what the client reports: some gateways echo a refused credential in their error body
 * ("invalid token Bearer abc…"), and that body becomes an error message, an activity failure in
 * the history, a log line and the API's answer.
 */

/** What replaces an echoed header value. */
export const ECHO_REDACTED = '[redacted]';

/** Values shorter than this are left alone: they would match ordinary words. */
const MIN_LENGTH = 6;

/**
 * A function that replaces every occurrence of the header values in `headers` (and the credential
 * part of `Bearer x` / `Basic x` values, and their JSON-escaped and URL-encoded forms) with
 * `[redacted]`. Pure; the identity when no value is long enough.
 * @example scrubHeaderEcho({ authorization: 'Bearer abc123def' })('bad token abc123def') // 'bad token [redacted]'
 */
export function scrubHeaderEcho(headers: Readonly<Record<string, string>>): (text: string) => string {
  const forms = new Set<string>();
  for (const value of Object.values(headers)) {
    const credential = /^(?:bearer|basic|token|apikey)\s+(\S+)$/i.exec(value.trim())?.[1];
    for (const secret of [value.trim(), credential]) {
      if (secret === undefined || secret.length < MIN_LENGTH) continue;
      forms.add(secret);
      forms.add(JSON.stringify(secret).slice(1, -1));
      forms.add(encodeURIComponent(secret));
    }
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const form of ordered) out = out.split(form).join(ECHO_REDACTED);
    return out;
  };
}
