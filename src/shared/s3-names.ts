/**
 * Name rules for everything that becomes an S3 bucket name, an S3 object key or a workflow id,
 * checked before any work starts so a name S3 would refuse fails at once, naming the field, instead
 * of failing (or being retried) halfway through a detection. Pure: no Node, no I/O — importable
 * from workflows, the CLI and activities alike.
 *
 * Every function returns a list of complete, human-readable problems naming the field and quoting
 * the value (shortened when long); an empty list means the name is usable. They never throw.
 */

/** Longest S3 object key, in UTF-8 bytes (AWS S3 object key rules). */
export const MAX_KEY_BYTES = 1024;

/**
 * Longest `/`-separated key segment, in UTF-8 bytes. S3 itself allows any segment up to the key
 * limit, but filesystem-backed S3 servers (versitygw, MinIO in FS mode, …) store each segment as a
 * file or directory name, and common filesystems refuse names over 255 bytes: versitygw answers
 * `400 KeyTooLongError` (or `409 ExistingObjectIsDirectory` for a nested key). We stay portable.
 */
export const MAX_KEY_SEGMENT_BYTES = 255;

/** The suffix the default result key adds after the workflow id: `results/<workflowId>.json`. */
const RESULT_KEY_SUFFIX = '.json';

/**
 * Longest workflow id, in UTF-8 bytes. Temporal allows 1000 bytes by default, but the id becomes one
 * segment of the default result key `results/<workflowId>.json`, so it must fit
 * {@link MAX_KEY_SEGMENT_BYTES} minus `.json`: 250 bytes.
 */
export const MAX_WORKFLOW_ID_BYTES = MAX_KEY_SEGMENT_BYTES - RESULT_KEY_SUFFIX.length;

/**
 * Bytes of `text` once encoded as UTF-8 (lone surrogates count as U+FFFD, 3 bytes, as
 * `TextEncoder` does). Written out because workflow code has no `Buffer`.
 * @example utf8Length('é') // 2
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

// C0 controls and DEL: invisible in logs and consoles, and refused or mangled by many S3 servers.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Quotes a value for a message, shortening it so a 300-character id does not drown the message. */
function quote(value: string): string {
  if (value.length <= 64) return JSON.stringify(value);
  return `${JSON.stringify(`${value.slice(0, 40)}…${value.slice(-12)}`)} (${utf8Length(value)} bytes)`;
}

function report(field: string, value: string, what: string, reasons: string[]): string[] {
  return reasons.length === 0 ? [] : [`${field} ${quote(value)} is not ${what}: ${reasons.join(', ')}`];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * Checks a bucket name against the S3 general-purpose bucket naming rules
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): 3–63 characters
 * of lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit; no
 * adjacent dots; not an IPv4 address; none of the reserved prefixes (`xn--`, `sthree-`,
 * `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`). Legacy
 * us-east-1 names with uppercase letters or underscores are refused too: no current S3 server
 * creates them, and virtual-hosted addressing cannot reach them.
 * @param field what to call the value in the message, e.g. `questioned.bucket`.
 * @returns at most one problem, listing every rule broken; `[]` when valid. Never throws.
 * @example bucketNameProblems('Call_Recordings..2024', 'questioned.bucket')
 * // ['questioned.bucket "Call_Recordings..2024" is not a valid S3 bucket name: uppercase letters, "_" is not allowed, adjacent dots ".."']
 */
export function bucketNameProblems(name: string, field = 'bucket'): string[] {
  const reasons: string[] = [];
  if (name.length < 3 || name.length > 63) reasons.push(`must be 3 to 63 characters, has ${name.length}`);
  if (/[A-Z]/.test(name)) reasons.push('uppercase letters');
  const others = [...new Set(name.replace(/[a-zA-Z0-9.-]/g, ''))];
  if (others.length > 0)
    reasons.push(
      `${others.map((c) => JSON.stringify(c)).join(' ')} ${others.length > 1 ? 'are' : 'is'} not allowed`,
    );
  if (name.length > 0 && !/^[a-zA-Z0-9]/.test(name)) reasons.push('must start with a letter or digit');
  if (name.length > 0 && !/[a-zA-Z0-9]$/.test(name)) reasons.push('must end with a letter or digit');
  if (name.includes('..')) reasons.push('adjacent dots ".."');
  if (IPV4.test(name)) reasons.push('must not be an IP address');
  const lower = name.toLowerCase();
  for (const prefix of RESERVED_PREFIXES)
    if (lower.startsWith(prefix)) reasons.push(`the prefix "${prefix}" is reserved`);
  for (const suffix of RESERVED_SUFFIXES)
    if (lower.endsWith(suffix)) reasons.push(`the suffix "${suffix}" is reserved`);
  return report(field, name, 'a valid S3 bucket name', reasons);
}

/**
 * Checks an object key: 1–1024 bytes of UTF-8 (the S3 limit); no segment between slashes over 255
 * bytes ({@link MAX_KEY_SEGMENT_BYTES}: filesystem-backed S3 servers refuse it); no `.` or `..`
 * segment (such servers resolve them as paths, so `a/../b` writes `b`); no empty segment (a leading
 * `/`, `//`, or a trailing `/`, which names a folder marker, not a recording or a result); no
 * control characters.
 * @param field what to call the value in the message, e.g. `result.key`.
 * @returns at most one problem, listing every rule broken; `[]` when valid. Never throws.
 * @example objectKeyProblems('results/../x.json', 'result.key')
 * // ['result.key "results/../x.json" is not a usable S3 object key: a "." or ".." segment']
 */
export function objectKeyProblems(key: string, field = 'key'): string[] {
  const reasons: string[] = [];
  const bytes = utf8Length(key);
  if (bytes === 0) reasons.push('it is empty');
  if (bytes > MAX_KEY_BYTES) reasons.push(`${bytes} bytes, over the ${MAX_KEY_BYTES}-byte S3 limit`);
  if (bytes > 0) {
    const segments = key.split('/');
    if (key.startsWith('/')) reasons.push('a leading "/"');
    else if (key.endsWith('/')) reasons.push('a trailing "/"');
    if (segments.slice(1, -1).some((s) => s === '')) reasons.push('an empty segment "//"');
    if (segments.some((s) => s === '.' || s === '..')) reasons.push('a "." or ".." segment');
    const longest = Math.max(...segments.map(utf8Length));
    if (longest > MAX_KEY_SEGMENT_BYTES)
      reasons.push(
        `a segment of ${longest} bytes, over ${MAX_KEY_SEGMENT_BYTES} (KeyTooLongError on filesystem-backed S3)`,
      );
  }
  if (CONTROL_CHARACTERS.test(key)) reasons.push('control characters');
  return report(field, key, 'a usable S3 object key', reasons);
}

/**
 * Checks a workflow id proposed for a detection: 1–250 bytes of UTF-8
 * ({@link MAX_WORKFLOW_ID_BYTES}), no `/`, no control characters. Stricter than
 * Temporal (1000 bytes, anything goes) because the id becomes one segment of the default result key
 * `results/<workflowId>.json`: a longer id makes the result unwritable after the platform has
 * scored the pair. The workflow applies it to its own id when no `result.key` is given.
 * @returns at most one problem; `[]` when valid. Never throws.
 * @example workflowIdProblems('a'.repeat(302)) // ['workflow id "aaaa…" (302 bytes) is not usable: 302 bytes, over 250 …']
 */
export function workflowIdProblems(id: string, field = 'workflow id'): string[] {
  const reasons: string[] = [];
  const bytes = utf8Length(id);
  if (bytes === 0) reasons.push('it is empty');
  if (bytes > MAX_WORKFLOW_ID_BYTES)
    reasons.push(
      `${bytes} bytes, over ${MAX_WORKFLOW_ID_BYTES} (it becomes the key segment "<id>.json", at most ${MAX_KEY_SEGMENT_BYTES} bytes)`,
    );
  if (id.includes('/')) reasons.push('"/" is not allowed (the id becomes one key segment)');
  if (CONTROL_CHARACTERS.test(id)) reasons.push('control characters');
  return report(field, id, 'usable', reasons);
}

/**
 * The key a detection's result is written to when its input names none.
 * @example defaultResultKey('detect-1') // 'results/detect-1.json'
 */
export function defaultResultKey(workflowId: string): string {
  return `results/${workflowId}${RESULT_KEY_SUFFIX}`;
}
