/**
 * JSON with object keys sorted at every level, so equal values give equal text whatever the key
 * order. `undefined` members are left out, as `JSON.stringify` does. Pure; importable anywhere.
 * (The same function as `canonicalJson` in src/client/detections.ts, kept here so activities and
 * workflows need not import the client.)
 * @example canonicalJson({ b: 1, a: { d: 2, c: 3 } }) // '{"a":{"c":3,"d":2},"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    member !== null && typeof member === 'object' && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}
