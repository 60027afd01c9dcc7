/**
 * Turns zod issues into the messages a user can act on: `evolution.population: must be ≥ 4, got -5`,
 * `supernet.epoch: unknown field (did you mean "epochs"?)`. Every problem is listed, none is a stack trace.
 */
import type { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(
        dp[i - 1][j] + 1,
        dp[i][j - 1] + 1,
        dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return dp[a.length][b.length];
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export function joinPath(pathParts: ReadonlyArray<PropertyKey>): string {
  return pathParts.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
    '',
  );
}

/** Keys an object schema accepts at `pathParts` (for "did you mean" suggestions). */
function knownKeysAt(schema: z.ZodType, pathParts: ReadonlyArray<PropertyKey>): string[] {
  let current: unknown = schema;
  const unwrap = (s: unknown): unknown => {
    let node = s as { def?: { type?: string; innerType?: unknown; element?: unknown; in?: unknown } };
    while (
      node?.def &&
      ['optional', 'default', 'nullable', 'prefault', 'pipe'].includes(node.def.type ?? '')
    ) {
      node = (node.def.innerType ?? node.def.in) as typeof node;
    }
    return node;
  };
  for (const part of pathParts) {
    const node = unwrap(current) as {
      def?: { type?: string; element?: unknown };
      shape?: Record<string, unknown>;
    };
    if (typeof part === 'number' && node?.def?.type === 'array') current = node.def.element;
    else if (node?.shape && typeof part === 'string') current = node.shape[part];
    else return [];
  }
  const node = unwrap(current) as { shape?: Record<string, unknown> };
  return node?.shape ? Object.keys(node.shape) : [];
}

/** zod's own wording; anything else is a message a schema author wrote. */
const ZOD_DEFAULT_MESSAGE =
  /^(Too small|Too big|Invalid (option|input|value|string|number)|Expected|Unrecognized key)/;

export function formatIssues(schema: z.ZodType, issues: z.core.$ZodIssue[]): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    const where = joinPath(issue.path) || '(top level)';
    const input = (issue as { input?: unknown }).input;
    // A schema that wrote its own message (naming the field and the fix) is quoted as it is.
    if (issue.code !== 'unrecognized_keys' && !ZOD_DEFAULT_MESSAGE.test(issue.message)) {
      problems.push(`${where}: ${issue.message}`);
      continue;
    }
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, issue.path);
        for (const key of issue.keys) {
          const suggestion = closest(key, known);
          const field = joinPath([...issue.path, key]);
          problems.push(
            `${field}: unknown field` +
              (suggestion
                ? ` (did you mean "${suggestion}"?)`
                : known.length
                  ? `; expected one of ${known.join(', ')}`
                  : ''),
          );
        }
        break;
      }
      case 'too_small':
        problems.push(
          issue.origin === 'array' || issue.origin === 'string'
            ? `${where}: needs at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'entries' : 'characters'}, got ${show(input)}`
            : `${where}: must be ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}, got ${show(input)}`,
        );
        break;
      case 'too_big':
        problems.push(
          issue.origin === 'array' || issue.origin === 'string'
            ? `${where}: allows at most ${String(issue.maximum)} ${issue.origin === 'array' ? 'entries' : 'characters'}`
            : `${where}: must be ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}, got ${show(input)}`,
        );
        break;
      case 'invalid_value':
        problems.push(
          `${where}: must be one of ${issue.values.map((v) => show(v)).join(', ')}; got ${show(input)}`,
        );
        break;
      case 'invalid_type':
        problems.push(
          input === undefined
            ? `${where}: required (${issue.expected})`
            : `${where}: must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}, got ${show(input)}`,
        );
        break;
      default:
        problems.push(
          `${where}: ${issue.message}${input !== undefined && issue.code === 'custom' ? '' : ''}`,
        );
    }
  }
  return problems;
}

/** Parses `value` with `schema`, throwing ConfigError listing every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(schema, result.error.issues));
  return result.data;
}
