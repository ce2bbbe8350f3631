// Loaded into the operator's process by the bench only (NODE_OPTIONS="--expose-gc --import …"):
// on SIGUSR2 it collects garbage until the heap stops shrinking and writes the retained heap to
// $BENCH_HEAP_FILE, so the bench reads the operator's own figure without changing src/.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_HEAP_FILE;
const gc = (globalThis as { gc?: () => void }).gc;

async function measure(target: string, collect: () => void): Promise<void> {
  let previous = Infinity;
  for (let i = 0; i < 6; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 50));
    const used = process.memoryUsage().heapUsed;
    if (used >= previous * 0.999) break;
    previous = used;
  }
  const m = process.memoryUsage();
  writeFileSync(
    target,
    JSON.stringify({ heapUsed: m.heapUsed, external: m.external, rss: m.rss, at: Date.now() }),
  );
}

if (file && gc && isMainThread) process.on('SIGUSR2', () => void measure(file, gc));
