/** A `StatusWriter` that keeps status files in a map (unit tests of the reconcile loop). */
import { stableStringify } from '../../src/model/canonical.js';
import type { ResourceStatus } from '../../src/reconciler/status-types.js';
import type { StatusWriter } from '../../src/reconciler/status-writer.js';

export class MemoryStatuses implements StatusWriter {
  readonly files = new Map<string, ResourceStatus>();
  writes = 0;
  /** While set, every write fails with it (a read-only tree, a full disk). */
  failWith: Error | undefined;

  async read(file: string): Promise<ResourceStatus | undefined> {
    return this.files.get(file);
  }

  async write(file: string, status: ResourceStatus): Promise<boolean> {
    if (this.failWith !== undefined) throw this.failWith;
    const before = this.files.get(file);
    if (before !== undefined && stableStringify(before) === stableStringify(status)) return false;
    this.files.set(file, status);
    this.writes++;
    return true;
  }

  async remove(file: string): Promise<void> {
    this.files.delete(file);
  }

  present(file: string): boolean {
    return this.files.has(file);
  }

  unwritable(): string | undefined {
    return undefined;
  }

  /** The status of a condition type, or undefined. */
  condition(file: string, type: string): { readonly status: string; readonly reason: string } | undefined {
    return this.files.get(file)?.conditions.find((c) => c.type === type);
  }
}
