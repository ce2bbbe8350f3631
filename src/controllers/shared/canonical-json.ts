// One JSON text per value, whatever the order its object keys were set in: for comparing a
// status with the one about to be written, and for hashing what an object was made from. Pure.

/** JSON with every object's keys sorted (arrays keep their order); `undefined` is `null`. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
