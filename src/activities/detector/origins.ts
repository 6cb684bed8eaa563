/**
 * Which origins the client may talk to. A 202's `Location` (or a status URL stored in a workflow
 * history) is followed only when it stays on the platform's origin or on one the operator allowed:
 * otherwise a platform, or anything in front of it, could point the worker at any host, and that
 * host would receive our requests (and, before, our credentials) and fill our logs.
 */

/** The result of parsing one allowed origin. */
export type OriginRead = { ok: true; origin: string } | { ok: false; reason: string };

/**
 * Parses an origin as an operator writes it: an http(s) URL with scheme, host and optional port,
 * and nothing else (no path, query, fragment or credentials). The result is the URL's
 * serialised origin (lower-case host, default port dropped), comparable with `URL#origin`. Pure.
 * @example parseOrigin('https://Node1.example.com:443/') // { ok: true, origin: 'https://node1.example.com' }
 * @example parseOrigin('https://lb.example.com/spe').ok // false
 */
export function parseOrigin(value: string): OriginRead {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'is not http(s)' };
  if (url.username || url.password) return { ok: false, reason: 'must not contain a user name or password' };
  if (url.pathname !== '/' || url.search || url.hash) {
    return {
      ok: false,
      reason: 'must be an origin only (scheme://host[:port]), without a path, query or fragment',
    };
  }
  return { ok: true, origin: url.origin };
}

/**
 * The origins a client may send requests to: the base URL's first, then the extra ones, without
 * duplicates.
 * @throws TypeError when an extra origin is not a bare http(s) origin (see parseOrigin).
 * @example allowedOriginsFor('https://spe.example.com/spe', ['https://node1:8443']) // ['https://spe.example.com', 'https://node1:8443']
 */
export function allowedOriginsFor(baseUrl: string, extra: readonly string[] = []): readonly string[] {
  const origins = [new URL(baseUrl).origin];
  for (const value of extra) {
    const read = parseOrigin(value);
    if (!read.ok) throw new TypeError(`allowed origin ${JSON.stringify(value)} ${read.reason}`);
    if (!origins.includes(read.origin)) origins.push(read.origin);
  }
  return origins;
}
