/** Parsed JSON objects (config files, layouts), told apart from arrays and null. */

export type JsonObject = Record<string, unknown>;

/** Whether `value` is a JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
