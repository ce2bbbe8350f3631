// The rules of `webhooks.receivers` a schema cannot express.
import { isObject } from '../json.ts';
import { type ProblemList, repeats } from '../problems.ts';

export function checkWebhooks(webhooks: unknown, problems: ProblemList): void {
  const receivers = isObject(webhooks) ? webhooks.receivers : undefined;
  if (!Array.isArray(receivers)) return;
  const at = (i: number) => `/webhooks/receivers/${i}`;
  // A receiver the schema refused is not checked, and its name is not counted.
  const checked = receivers.map((r, i) => (isObject(r) && !problems.has(at(i)) ? r : undefined));
  const names = repeats(checked.map((r) => (typeof r?.name === 'string' ? r.name : undefined)));
  for (const [i, r] of checked.entries()) {
    if (r === undefined) continue;
    if ((r.signingKey === undefined) === (r.signingKeyFile === undefined)) {
      problems.add(
        at(i),
        'set exactly one of signingKeyFile (a mounted Secret) or signingKey (development only)',
      );
    }
    if (typeof r.url === 'string' && !/^https?:\/\/[^/\s]+/.test(r.url)) {
      problems.add(
        `${at(i)}/url`,
        'must be an http:// or https:// URL such as https://hooks.example.com/vaultsync',
      );
    } else if (typeof r.url === 'string' && r.url.startsWith('http://') && r.insecure !== true) {
      // Events name resources and carry signatures: in the clear only when asked for.
      problems.add(
        `${at(i)}/url`,
        'must start with https:// (or set insecure: true on this receiver to allow http://)',
      );
    }
    const first = names.get(i);
    if (first !== undefined) {
      problems.add(
        `${at(i)}/name`,
        `"${String(r.name)}" is already the name of receivers[${first}]; names must be unique`,
      );
    }
  }
}
