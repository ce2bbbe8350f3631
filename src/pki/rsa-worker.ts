// Worker thread body of the RSA key pool (rsa-pool.ts): generates one key per message with
// the synchronous API, which blocks only this thread, and returns it as PKCS#8 DER.
import { generateKeyPairSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

interface Job {
  id: number;
  bits: number;
}

const port = parentPort;
port?.on('message', (job: Job) => {
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: job.bits, publicExponent: 0x10001 });
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const copy = der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength);
    der.fill(0);
    port.postMessage({ id: job.id, der: copy }, [copy]);
  } catch (err) {
    port.postMessage({ id: job.id, error: err instanceof Error ? err.message : 'key generation failed' });
  }
});
