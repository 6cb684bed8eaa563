/**
 * Parsers for option values, shared by the command definitions. Each throws commander's
 * `InvalidArgumentError`, which commander prints naming the option and the value typed, exit 2.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';

/**
 * A number parser with bounds: `integer` rejects fractions, `min` is inclusive, `above` exclusive.
 * Rejects empty strings, `NaN` and infinities. Pure.
 * @example new Option('--capacity <n>').argParser(numberParser({ integer: true, min: 1 }))
 */
export function numberParser(rules: { integer?: boolean; min?: number; above?: number } = {}) {
  const kind = rules.integer ? 'an integer' : 'a number';
  const range =
    rules.above !== undefined ? ` above ${rules.above}` : rules.min !== undefined ? ` ≥ ${rules.min}` : '';
  return (raw: string): number => {
    const value = Number(raw);
    if (
      raw.trim() === '' ||
      !Number.isFinite(value) ||
      (rules.integer && !Number.isInteger(value)) ||
      (rules.min !== undefined && value < rules.min) ||
      (rules.above !== undefined && value <= rules.above)
    ) {
      throw new InvalidArgumentError(`Expected ${kind}${range}.`);
    }
    return value;
  };
}

/**
 * Parses a JSON object (not an array, not null), e.g. the platform's `--config`.
 * @example jsonObject('{"max_speech_length": 60}') // { max_speech_length: 60 }
 */
export function jsonObject(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new InvalidArgumentError(`Not valid JSON: ${(err as Error).message}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('Expected a JSON object, e.g. \'{"max_speech_length": 60}\'.');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Collects repeated `name=value` options into one object (a later name wins).
 * @example new Option('--param <name=value>').argParser(collectPairs)
 */
export function collectPairs(
  raw: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const at = raw.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('Expected name=value.');
  return { ...previous, [raw.slice(0, at)]: raw.slice(at + 1) };
}

/**
 * An option that may be given once: a second `--id a --id b` is an error (exit 2) instead of the
 * last one silently winning. Wraps `parse` (default: the text as typed). Only for options without
 * a default value (commander passes the default as `previous`). Pure.
 * @example new Option('--id <id>').argParser(once())
 */
export function once<T = string>(parse: (raw: string) => T = (raw) => raw as T) {
  return (raw: string, previous: T | undefined): T => {
    if (previous !== undefined) throw new InvalidArgumentError('Given more than once; give it once.');
    return parse(raw);
  };
}
