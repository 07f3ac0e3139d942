/**
 * Detached processes that outlive ingressd (Caddy, the instance DNS): starting one in its own
 * session with its output appended to a log file, recognising it again later by its command line,
 * waiting for it to answer, stopping it (TERM, then KILL), and quoting its log when it fails.
 * The one implementation both supervisors use; what "answers" and "ours" mean is theirs to say.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive, waitForExit } from './process-alive.js';

export interface SpawnDetachedOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Standard output and error are appended here. */
  readonly logFile: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** How a process ended: its exit code, or the signal that killed it. */
export type ProcessEnd = { readonly code: number; readonly signal?: undefined } | { readonly code?: undefined; readonly signal: string };

export interface DetachedProcess {
  readonly pid: number;
  /** Undefined while it runs. */
  ended(): ProcessEnd | undefined;
}

/**
 * Starts `command` in its own session (it survives ingressd, like `setsid`), not waited on.
 * Rejects with the spawn error (`ENOENT`, `EACCES`) when it cannot run at all.
 */
export async function spawnDetached(options: SpawnDetachedOptions): Promise<DetachedProcess> {
  const log = openSync(options.logFile, 'a', 0o644);
  let ended: ProcessEnd | undefined;
  let child;
  try {
    child = spawn(options.command, [...options.args], { detached: true, stdio: ['ignore', log, log], env: options.env ?? process.env });
  } finally {
    closeSync(log); // the child holds its own copy
  }
  child.once('exit', (code, signal) => (ended = signal === null ? { code: code ?? 0 } : { signal }));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.command} started without a process id`);
  return { pid, ended: () => ended };
}

/**
 * Asks `answers` every `everyMs` until it says yes (true), `timeoutMs` passes or `keepWaiting`
 * says stop, e.g. because the process ended (false).
 */
export async function waitUntilAnswering(answers: () => Promise<boolean>, options: { readonly timeoutMs: number; readonly everyMs: number; readonly keepWaiting: () => boolean }): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await answers()) return true;
    if (!options.keepWaiting() || Date.now() >= deadline) return false;
    await sleep(options.everyMs);
  }
}

/** SIGTERM, then SIGKILL if it outlives `graceMs`; resolves once it is gone (or was never ours to signal). */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  if (await waitForExit(pid, graceMs)) return;
  if (signal(pid, 'SIGKILL')) await waitForExit(pid, 1_000);
}

/** Sends a signal; false when the process is gone (ESRCH) or not ours (EPERM). */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** The live process's argv from /proc, or undefined when it cannot be read (then never call it ours). */
export function commandLineOf(pid: number): string[] | undefined {
  if (!isProcessAlive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg.length > 0);
  } catch {
    return undefined;
  }
}

/** The pid a pid file names (a positive integer and nothing else), or undefined. */
export async function readPidFile(file: string): Promise<number | undefined> {
  const text = (await readFile(file, 'utf8').catch(() => '')).trim();
  return /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
}

/** The last `lines` lines of a log (reading at most its last 16 KiB), or a note that it is empty. */
export async function logTail(file: string, lines: number): Promise<string> {
  let text = '';
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 16_384);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    // no log yet
  }
  return text.trimEnd().split('\n').slice(-lines).join('\n') || '(the log is empty)';
}
