/**
 * A JSON object from an environment variable (a bench's overrides), or {} when unset: a clear error that
 * names the variable and shows an example when it is not one, before any work starts.
 */
export function jsonObjectFromEnv(variable: string, example: string): Record<string, unknown> {
  const raw = process.env[variable];
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${variable} must be a JSON object, e.g. ${example}: ${String(error)}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${variable} must be a JSON object, e.g. ${example}`);
  return parsed as Record<string, unknown>;
}

/** A bench's required environment variable, or an error naming it and the file that documents it. */
export function requiredEnv(variable: string, documentedIn: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set: see ${documentedIn} for what it names`);
  return value;
}
