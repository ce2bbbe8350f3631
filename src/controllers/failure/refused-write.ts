// A write the apiserver refused for good (4xx other than conflict and throttling): what the
// condition and the event say. The apiserver's message names fields and keys, not Secret
// values, but an admission webhook may quote anything: every value being written is cut out
// before the message leaves the process, and the message is capped. Pure.
import { KubeError, capMessage } from '../../kube/errors.ts';

/** Values shorter than this are not searched for (they would cut words out of the message). */
const MIN_REDACTED_LENGTH = 4;
const MAX_LENGTH = 400;

/** The KubeError when the apiserver refused the write and retrying cannot help; else undefined. */
export function refusedWrite(err: unknown): KubeError | undefined {
  return err instanceof KubeError && !err.transient && err.status >= 400 && err.status < 500
    ? err
    : undefined;
}

/** The refusal's message for status and events, with every value being written cut out. */
export function refusedWriteMessage(what: string, err: KubeError, values: Iterable<Buffer> = []): string {
  let text = err.message;
  const secrets = [...values]
    .flatMap((v) => [v.toString('utf8'), v.toString('base64')])
    .filter((s) => s.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const s of secrets) text = text.split(s).join('[redacted]');
  // The apiserver's message was capped (errors.ts): a value may be cut off right at the end.
  if (text.endsWith('…')) {
    const body = text.slice(0, -1);
    const cut = Math.max(0, ...secrets.map((s) => longestPrefixSuffix(body, s)));
    if (cut > 0) text = `${body.slice(0, body.length - cut)}[redacted]…`;
  }
  return capMessage(`the apiserver refused the write of ${what}: ${text}`, MAX_LENGTH);
}

/** Length of the longest prefix of `value` (at least MIN_REDACTED_LENGTH) that ends `text`. */
function longestPrefixSuffix(text: string, value: string): number {
  for (let n = Math.min(value.length, text.length); n >= MIN_REDACTED_LENGTH; n--)
    if (text.endsWith(value.slice(0, n))) return n;
  return 0;
}
