// A Secret or status write the apiserver refuses for good (a 4xx other than conflict or
// throttling) is the user's to fix: SecretWriteFailed with the apiserver's message, every value
// being written cut out of it (controllers/failure/refused-write.ts).
import { VaultSecretReason } from '../../apis/v1alpha1/index.ts';
import { Failure, refusedWrite, refusedWriteMessage } from '../failure/index.ts';

/** Runs `write`; a refusal becomes SecretWriteFailed naming `what`, anything else is rethrown. */
export async function writing<T>(
  what: string,
  values: Iterable<Buffer>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const refused = refusedWrite(err);
    if (!refused) throw err;
    throw new Failure(VaultSecretReason.SecretWriteFailed, refusedWriteMessage(what, refused, values));
  }
}
