/**
 * S3 event rules: which newly created objects are questioned recordings, and which reference each
 * one is compared with. Used by `POST /v1/s3-events` and by the sweep, so both map an object to
 * the same detection request. Pure: no Node, no I/O — importable from workflows.
 *
 * A rule file is a JSON array (or `{ "rules": [...] }`):
 *
 * ```json
 * [{ "match": "calls/{customer}/{call}.wav", "reference": "references/{customer}.wav" }]
 * ```
 *
 * In `match`, `{name}` stands for one key segment (no `/`, at least one character) and `{name*}`
 * for one or more characters that may span segments; everything else is literal. `reference` may
 * use the names `match` defines. The first rule whose `match` (and `bucket`, when set) fits a key
 * wins; an object no rule fits is not a questioned recording.
 */
import type { DetectInput } from './detection.ts';
import { bucketNameProblems, objectKeyProblems } from './s3-names.ts';

/** One rule as written in a rule file. */
export interface EventRule {
  /** Key template of questioned recordings, e.g. `calls/{customer}/{call}.wav`. */
  match: string;
  /** Key template of the reference, e.g. `references/{customer}.wav`. */
  reference: string;
  /** Only objects of this bucket match. Default: any bucket. */
  bucket?: string;
  /** The reference's bucket. Default: the questioned object's bucket. */
  referenceBucket?: string;
  /** 0-based channel of the questioned recording (for multi-channel files). */
  questionedChannel?: number;
  /** 0-based channel of the reference. */
  referenceChannel?: number;
  /** LLR above which the verdict is `deepfake`. Default 0. */
  threshold?: number;
}

/** A created object an event or a listing names. */
export interface ObjectRef {
  bucket: string;
  key: string;
}

/** What `matchEventRule` found: the rule (index in the list) and the detection to run. */
export interface EventRuleMatch {
  ruleIndex: number;
  /** The named parts of the key, e.g. `{ customer: 'acme', call: '42' }`. */
  captures: Record<string, string>;
  input: DetectInput;
}

const KNOWN_FIELDS = new Set([
  'match',
  'reference',
  'bucket',
  'referenceBucket',
  'questionedChannel',
  'referenceChannel',
  'threshold',
]);
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(\*?)\}/g;

/** A template split into literal text and placeholders. */
type Part = { literal: string } | { name: string; many: boolean };

/** The parts of a template, or problems when a brace does not open a valid placeholder. */
function partsOf(template: string, field: string): { parts: Part[]; problems: string[] } {
  const parts: Part[] = [];
  const problems: string[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
    parts.push({ name: m[1]!, many: m[2] === '*' });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  for (const part of parts) {
    if ('literal' in part && /[{}]/.test(part.literal)) {
      problems.push(`${field} ${JSON.stringify(template)}: a brace outside a {name} or {name*} placeholder`);
      break;
    }
  }
  return { parts, problems };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Everything wrong with a rule list (empty when usable): not an array, unknown or mistyped fields,
 * templates with stray braces, a `match` naming a placeholder twice or two placeholders side by
 * side, a `reference` using a name `match` does not define, invalid bucket names, channels that
 * are not 0-based integers, a threshold that is not a finite number. Accepts `{ rules: [...] }`
 * too. Pure, never throws.
 * @example eventRuleProblems([{ match: 'calls/{c}.wav', reference: 'refs/{x}.wav' }])
 *   // ['rules[0].reference "refs/{x}.wav" uses {x}, which match does not define']
 */
export function eventRuleProblems(value: unknown): string[] {
  const list = unwrap(value);
  if (!Array.isArray(list)) return ['rules must be a JSON array of {match, reference, …} objects'];
  const problems: string[] = [];
  list.forEach((rule: unknown, i) => {
    const at = `rules[${i}]`;
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
      problems.push(`${at} must be an object with match and reference`);
      return;
    }
    const r = rule as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!KNOWN_FIELDS.has(key))
        problems.push(`${at}.${key} is not a rule field (${[...KNOWN_FIELDS].join(', ')})`);
    }
    for (const field of ['match', 'reference'] as const) {
      if (typeof r[field] !== 'string' || r[field] === '')
        problems.push(`${at}.${field} must be a non-empty string`);
    }
    for (const field of ['bucket', 'referenceBucket'] as const) {
      if (r[field] === undefined) continue;
      if (typeof r[field] !== 'string') problems.push(`${at}.${field} must be a string`);
      else problems.push(...bucketNameProblems(r[field], `${at}.${field}`));
    }
    for (const field of ['questionedChannel', 'referenceChannel'] as const) {
      const channel = r[field];
      if (channel !== undefined && !(Number.isInteger(channel) && (channel as number) >= 0))
        problems.push(`${at}.${field} must be a 0-based integer channel index`);
    }
    if (r.threshold !== undefined && !(typeof r.threshold === 'number' && Number.isFinite(r.threshold)))
      problems.push(`${at}.threshold must be a finite number`);
    if (typeof r.match !== 'string' || typeof r.reference !== 'string') return;
    const match = partsOf(r.match, `${at}.match`);
    const reference = partsOf(r.reference, `${at}.reference`);
    problems.push(...match.problems, ...reference.problems);
    const names = new Set<string>();
    match.parts.forEach((part, j) => {
      if (!('name' in part)) return;
      if (names.has(part.name)) problems.push(`${at}.match names {${part.name}} twice`);
      names.add(part.name);
      const previous = match.parts[j - 1];
      if (previous && 'name' in previous)
        problems.push(
          `${at}.match has {${previous.name}} and {${part.name}} side by side: put a literal between them`,
        );
    });
    for (const part of reference.parts) {
      if ('name' in part && !names.has(part.name))
        problems.push(
          `${at}.reference ${JSON.stringify(r.reference)} uses {${part.name}}, which match does not define`,
        );
      if ('name' in part && part.many)
        problems.push(`${at}.reference: write {${part.name}}, not {${part.name}*}`);
    }
  });
  return problems;
}

function unwrap(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'rules' in value)
    return value.rules;
  return value;
}

/**
 * The rules of a parsed rule file, checked. Accepts an array or `{ rules: [...] }`.
 * @throws TypeError listing every problem (see `eventRuleProblems`).
 * @example parseEventRules(JSON.parse(text)) // EventRule[]
 */
export function parseEventRules(value: unknown): EventRule[] {
  const problems = eventRuleProblems(value);
  if (problems.length > 0) throw new TypeError(`invalid S3 event rules: ${problems.join('; ')}`);
  return unwrap(value) as EventRule[];
}

/** The captures of `key` against a `match` template, or undefined when it does not fit. */
function captureKey(match: string, key: string): Record<string, string> | undefined {
  const { parts } = partsOf(match, 'match');
  const names: string[] = [];
  const source = parts
    .map((part) => {
      if ('literal' in part) return escapeRegExp(part.literal);
      names.push(part.name);
      return part.many ? '(.+)' : '([^/]+)';
    })
    .join('');
  const found = new RegExp(`^${source}$`, 's').exec(key);
  if (!found) return undefined;
  return Object.fromEntries(names.map((name, i) => [name, found[i + 1]!]));
}

function fill(template: string, captures: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => captures[name] ?? '');
}

/**
 * The detection a created object calls for: the first rule whose `bucket` (if set) and `match` fit
 * the object, with its reference filled in. Undefined when no rule fits, or when the object is
 * the reference itself. Rules must have passed `parseEventRules`. Pure.
 * @example matchEventRule(rules, { bucket: 'media', key: 'calls/acme/42.wav' })?.input.reference
 *   // { bucket: 'media', key: 'references/acme.wav' }
 */
export function matchEventRule(rules: readonly EventRule[], object: ObjectRef): EventRuleMatch | undefined {
  for (const [ruleIndex, rule] of rules.entries()) {
    if (rule.bucket !== undefined && rule.bucket !== object.bucket) continue;
    const captures = captureKey(rule.match, object.key);
    if (!captures) continue;
    const reference = {
      bucket: rule.referenceBucket ?? object.bucket,
      key: fill(rule.reference, captures),
      ...(rule.referenceChannel !== undefined && { channel: rule.referenceChannel }),
    };
    if (reference.bucket === object.bucket && reference.key === object.key) return undefined;
    const input: DetectInput = {
      reference,
      questioned: {
        bucket: object.bucket,
        key: object.key,
        ...(rule.questionedChannel !== undefined && { channel: rule.questionedChannel }),
      },
      ...(rule.threshold !== undefined && { threshold: rule.threshold }),
    };
    return { ruleIndex, captures, input };
  }
  return undefined;
}

/**
 * Problems with the object an event names before any rule is tried (empty when usable): S3 name
 * rules for the bucket and the key. Pure.
 * @example objectRefProblems({ bucket: 'media', key: 'a//b.wav' }) // ['key "a//b.wav" is not …']
 */
export function objectRefProblems(object: ObjectRef): string[] {
  return [...bucketNameProblems(object.bucket), ...objectKeyProblems(object.key)];
}
