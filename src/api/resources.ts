/**
 * The handlers both kinds share: list, get and delete, over the manifests the reconciler knows
 * (API-created or hand-written, any stem, any subdirectory).
 */
import type { Manifest } from '../model/manifest.js';
import type { Kind } from '../model/resource.js';
import type { ResourceStatus } from '../reconciler/status-types.js';
import { deleteManifest, type ApiContext } from './settle.js';
import { entriesOf, existingManifestPath, findManifest } from './store.js';
import type { ApiRequest, Reply } from './types.js';
import { refuseUnlessWritable } from './writable-source.js';

/** How one kind is shown: the resource's fields plus its status (null before the first reconcile). */
export type View = (manifest: Manifest, status: ResourceStatus | undefined) => Readonly<Record<string, unknown>>;

/** `GET /<kind>s`: every resource of the kind, sorted by name (then file), each with its status. */
export function listResources(ctx: ApiContext, kind: Kind, view: View): Reply {
  const reconciler = ctx.controller.reconciler;
  const items = entriesOf(reconciler, kind).map((e) => view(e.value, reconciler.status(e.value.file)));
  return { status: 200, json: items };
}

/** `GET /<kind>s/{id}`: by id, name or unique id prefix. */
export function getResource(ctx: ApiContext, kind: Kind, view: View, req: ApiRequest): Reply {
  const reconciler = ctx.controller.reconciler;
  const manifest = findManifest(reconciler, kind, req.param);
  return { status: 200, json: view(manifest, reconciler.status(manifest.file)) };
}

/**
 * `DELETE /<kind>s/{id}`: removes the manifest file and answers 204 once a reconcile without it
 * finished (Caddy no longer serves it), or 202 when that takes longer than the wait bound.
 */
export async function deleteResource(ctx: ApiContext, kind: Kind, view: View, req: ApiRequest): Promise<Reply> {
  return ctx.lock.run(async () => {
    const reconciler = ctx.controller.reconciler;
    const manifest = findManifest(reconciler, kind, req.param);
    const shown = view(manifest, reconciler.status(manifest.file));
    const at = existingManifestPath(ctx.controller.options.manifestDir, manifest.file);
    await refuseUnlessWritable(ctx.controller.options.api.writes, at.path, `DELETE /${kind.toLowerCase()}s/${req.param}`);
    if (await deleteManifest(ctx, at)) return { status: 204 };
    return { status: 202, json: { ...shown, status: null, message: 'the file is removed; the reconcile that takes it out of Caddy has not finished yet' } };
  });
}

/** `2026-01-02T03:04:05Z`: RFC 3339, UTC, second precision (as the seed stores `created_at`). */
export function nowSeconds(now: number = Date.now()): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
