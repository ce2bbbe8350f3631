// Shortening text we did not write (server answers, names from a request, event messages) before
// it goes into a message, a log line or a status: one way to cut, one way to keep it printable.

/** `text` if it has at most `max` characters, else its start and `ellipsis`, `max` in all. */
export function cut(text: string, max: number, ellipsis = '…'): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - ellipsis.length))}${ellipsis}`;
}

/** A name taken from a request (a DNS name, an email address, a subject), as messages quote it. */
export function quotedName(name: string): string {
  return cut(name, 120, '...');
}

/** Control characters become spaces and the ends are trimmed: one line, nothing smuggled. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
