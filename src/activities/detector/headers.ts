/**
 * The rules for configured extra headers (a bearer token for a reverse proxy, a tenant id), in one
 * place: the client enforces them and `loadWorkerConfig` reports them by variable name at start-up.
 */

/**
 * Headers the client sets itself, or that frame the message; configured extra headers cannot
 * replace them (a wrong `content-length` or `host` would corrupt the upload or its routing).
 * Lower case.
 * @example RESERVED_HEADERS.has('content-type') // true
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'expect',
  'host',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);

/**
 * A field name: an RFC 9110 §5.6.2 `token`.
 * @example HEADER_NAME.test('X-Tenant') // true
 */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A field value (RFC 9110 §5.5): visible ASCII, space, tab and obs-text (0x80–0xFF). CR, LF, NUL
 * and the other control characters are excluded: they would split or end the header block.
 * @example HEADER_VALUE.test('Bearer abc') // true
 * @example HEADER_VALUE.test('Bearer x\nY') // false
 */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Every problem with a set of extra headers, one sentence each, naming the header but NEVER its
 * value (values are usually credentials). Empty when the headers are usable. Pure.
 * Rules: name is a token, value is a string and a valid field value, name not in
 * RESERVED_HEADERS, no name given twice (names are case-insensitive, RFC 9110 §5.1).
 * @example extraHeaderProblems({ Authorization: 'Bearer x\nY' })
 * // ['header "Authorization" has a value that is not a valid HTTP field value (CR, LF, NUL or another control character); the value is not shown']
 */
export function extraHeaderProblems(headers: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    const shown = showName(name);
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      problems.push(`header ${shown} has an invalid name (letters, digits and !#$%&'*+.^_\`|~- only)`);
      continue;
    }
    if (RESERVED_HEADERS.has(lower)) {
      problems.push(`header ${shown} is set by the client itself and cannot be configured`);
    } else if (seen.has(lower)) {
      problems.push(`header ${shown} is given twice (header names are case-insensitive)`);
    }
    seen.add(lower);
    if (typeof value !== 'string') {
      problems.push(`header ${shown} must have a string value`);
    } else if (!HEADER_VALUE.test(value)) {
      problems.push(
        `header ${shown} has a value that is not a valid HTTP field value (CR, LF, NUL or another control character); the value is not shown`,
      );
    }
  }
  return problems;
}

/** A name as JSON, so control characters show escaped; long names are cut. */
function showName(name: string): string {
  const quoted = JSON.stringify(name);
  return quoted.length > 80 ? `${quoted.slice(0, 79)}…"` : quoted;
}
