/**
 * The writer of `<dir>/env`: lines that a POSIX shell can `source` and that Node's `util.parseEnv`
 * (which `withStackEnv` uses) reads back to the same values. The two quoting rules differ (a
 * shell's `'it'\''s'` reads as `it` to parseEnv; parseEnv turns CRLF into LF), so only the forms
 * both read identically are written, and a value neither form can carry is refused.
 */

/** Characters that need no quoting in either reader (`#` would start a comment for parseEnv). */
const PLAIN = /^[A-Za-z0-9_./:@%+,=-]*$/;
/** Characters a shell interprets inside double quotes. */
const SHELL_DOUBLE_QUOTE_SPECIAL = /["$`\\]/;

/**
 * One value as both readers take it: as is when plain, else in single quotes (literal in both),
 * else, when it holds a `'`, in double quotes (when it has nothing a shell would expand there).
 * @throws Error naming the key for a value with a carriage return, or with a `'` together with one
 *   of `" $ \` \\`.
 */
function quote(key: string, value: string): string {
  if (PLAIN.test(value)) return value;
  if (value.includes('\r')) throw new Error(`env file: ${key} has a carriage return, which parseEnv drops`);
  if (!value.includes("'")) return `'${value}'`;
  if (!SHELL_DOUBLE_QUOTE_SPECIAL.test(value)) return `"${value}"`;
  throw new Error(
    `env file: ${key} has both ' and one of " $ \` \\, which no quoting keeps for both a shell and parseEnv`,
  );
}

/**
 * Formats variables as `KEY=VALUE` lines, with `header` as `#` comment lines first; undefined
 * values are skipped. The text can be `source`d by a shell and read by `util.parseEnv` with the
 * same result. Pure.
 * @throws Error for a value no quoting carries for both readers (see above), naming its key.
 * @example formatEnvFile({ A: 'x y', B: "it's" }) // "A='x y'\nB=\"it's\"\n"
 */
export function formatEnvFile(vars: Record<string, string | undefined>, header?: string): string {
  const lines = header ? header.split('\n').map((line) => `# ${line}`) : [];
  for (const [key, value] of Object.entries(vars)) {
    if (value !== undefined) lines.push(`${key}=${quote(key, value)}`);
  }
  return `${lines.join('\n')}\n`;
}
