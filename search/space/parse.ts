/** Parsing a search-space config: the schema first, then the hardware rules. */

import type { HardwareRules } from '../../hardware/validate';
import { SearchSpaceSchema, formatIssues, type SearchSpace } from './schema';
import { defaultHardwareRules, spaceRuleProblems } from './rules';

export type ParseResult = { ok: true; space: SearchSpace } | { ok: false; problems: string[] };

/**
 * Validate a space config: the schema, then the hardware rules (every listed device must have at least
 * one feasible node and bits-per-cell value in the space). Problems name the field and the fix.
 */
export function parseSearchSpace(input: unknown, rules: HardwareRules = defaultHardwareRules): ParseResult {
  const parsed = SearchSpaceSchema.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, problems: formatIssues(parsed.error.issues) };
  const problems = spaceRuleProblems(parsed.data, rules);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, space: parsed.data };
}

/** Like parseSearchSpace, but throws one error listing every problem. */
export function resolveSearchSpace(input: unknown, rules: HardwareRules = defaultHardwareRules): SearchSpace {
  const result = parseSearchSpace(input, rules);
  if (!result.ok) throw new Error(`invalid search space:\n  ${result.problems.join('\n  ')}`);
  return result.space;
}
