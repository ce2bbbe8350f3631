// Listen addresses and endpoints written `host:port` (or `:port`).

/** The number after the last colon (NaN when there is none to read). */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}
