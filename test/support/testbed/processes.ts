// Child processes of the test bed: each in its own process group with its output in a log
// file, so a bed can be torn down as a whole, from this process or from a later one.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** How it was started, so a fault test can start it again the same way (restartManaged). */
  launch?: { command: string; args: string[]; env?: Record<string, string>; cwd?: string };
}

export interface SpawnOptions {
  logDir: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Every started process is added here at once, so a failed start can stop the rest. */
  group: ManagedProcess[];
}

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions,
): ManagedProcess {
  const logFile = join(opts.logDir, `${name}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, {
    detached: true, // own process group: killGroup() takes its children too
    stdio: ['ignore', out, out],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  const managed = { name, pid: child.pid, logFile, launch: { command, args, env: opts.env, cwd: opts.cwd } };
  opts.group.push(managed);
  return managed;
}

/**
 * Stops a process (`signal`, default SIGTERM; SIGKILL after `graceMs`) and starts it again with
 * the same command, arguments and log file; `p.pid` is updated in place, so the bed's stop()
 * takes the new one. For fault tests on a private bed (e.g. kube-apiserver restarted); the
 * caller waits for readiness.
 */
export async function restartManaged(
  p: ManagedProcess,
  opts: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  if (!p.launch) throw new Error(`${p.name}: no launch record to restart it from`);
  const graceMs = opts.graceMs ?? 10_000;
  killGroup(p.pid, opts.signal ?? 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(p.pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(p.pid)) killGroup(p.pid, 'SIGKILL');
  while (isAlive(p.pid)) await sleep(50);
  const again: ManagedProcess[] = [];
  const { command, args, env, cwd } = p.launch;
  const started = spawnManaged(p.name, command, args, { logDir: dirname(p.logFile), env, cwd, group: again });
  p.pid = started.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a whole process group; synchronous so it also works in an 'exit' handler. */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export async function stopAll(processes: ManagedProcess[], graceMs = 5000): Promise<void> {
  for (const p of [...processes].reverse()) killGroup(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processes.some((p) => isAlive(p.pid)) && Date.now() < deadline) await sleep(50);
  for (const p of processes) if (isAlive(p.pid)) killGroup(p.pid, 'SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function logTail(p: ManagedProcess, lines = 20): string {
  if (!existsSync(p.logFile)) return '';
  return readFileSync(p.logFile, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Polls check() until it resolves true; fails early with the log tail if the process died. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; process?: ManagedProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (opts.process && !isAlive(opts.process.pid)) {
      throw new Error(`${what}: process exited\n${logTail(opts.process)}`);
    }
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(
    `${what}: not ready after ${opts.timeoutMs} ms\n${opts.process ? logTail(opts.process) : ''}`,
  );
}
