import { readFileSync } from 'node:fs';

/**
 * Whether a process is alive: signal 0 reaches it and /proc does not show it as a zombie (Z) or
 * dead (X) — `kill(pid, 0)` alone says a zombie is alive. Without /proc, the signal decides.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const at = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
    const state = stat.slice(at + 2, at + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** Resolves true once `pid` is gone (a zombie counts as gone), false after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise<void>((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}
