/**
 * `/ingresses`: create writes `<name>.json` in the watched directory after judging it exactly as
 * the reconciler would; list/get/delete work on every Ingress manifest the reconciler knows.
 */
import { stableStringify } from '../model/canonical.js';
import { deriveId } from '../model/ids.js';
import type { Manifest } from '../model/manifest.js';
import { isValidName } from '../reconciler/validate.js';
import { parseManifest } from '../manifest/parse.js';
import { deleteResource, getResource, listResources, nowSeconds, type View } from './resources.js';
import { applyManifest, firstBlocking, judge, type ApiContext } from './settle.js';
import { entriesOf, fileExists, newManifestPath, parseJsonObject } from './store.js';
import { ApiError, issueError, type ApiRequest, type Reply } from './types.js';
import { refuseUnlessWritable } from './writable-source.js';

/** `{id, name, rules, created_at, status}`; `created_at` only when the manifest has one. */
export const ingressView: View = (manifest, status) => {
  const resource = manifest.resource?.kind === 'Ingress' ? manifest.resource : undefined;
  const name = resource?.name ?? manifest.name;
  return {
    id: resource?.id ?? deriveId('Ingress', name),
    name,
    rules: resource?.rules ?? [],
    ...(resource?.created_at === undefined ? {} : { created_at: resource.created_at }),
    status: status ?? null,
  };
};

export const listIngresses = (ctx: ApiContext): Reply => listResources(ctx, 'Ingress', ingressView);
export const getIngress = (ctx: ApiContext, req: ApiRequest): Reply => getResource(ctx, 'Ingress', ingressView, req);
export const deleteIngress = (ctx: ApiContext, req: ApiRequest): Promise<Reply> => deleteResource(ctx, 'Ingress', ingressView, req);

/**
 * `POST /ingresses` with `{name, rules, ...}` (the Ingress schema). Checks, in order: body, name,
 * name not taken (by any file), then the full evaluation against the current set (schema, rules,
 * TLS, hostname conflicts with accepted ingresses), then declared target instances. Writes
 * `<name>.json` with `created_at`, waits for the reconcile and answers 201 with the status; 409/400
 * after rolling back when Caddy refuses it; 202 when the wait times out.
 */
export async function createIngress(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  const doc = parseJsonObject(await req.body());
  if (doc['kind'] !== undefined && doc['kind'] !== 'Ingress') {
    throw new ApiError('invalid_request', '/kind: POST /ingresses creates an Ingress; leave "kind" out (instances go to PUT /instances/{name})');
  }
  const name = doc['name'];
  if (typeof name !== 'string' || name.length === 0) throw new ApiError('invalid_request', '/name: name is required');
  if (!isValidName(name)) {
    throw new ApiError('invalid_request', `/name: name "${name}" is invalid: use 1-63 lowercase letters, digits and dashes, not starting or ending with a dash`);
  }
  return ctx.lock.run(async () => {
    const at = newManifestPath(ctx.controller.options.manifestDir, 'Ingress', name);
    await refuseUnlessWritable(ctx.controller.options.api.writes, at.path, 'POST /ingresses');
    const taken = entriesOf(ctx.controller.reconciler, 'Ingress').find((e) => e.name === name);
    if (taken !== undefined) throw new ApiError('already_exists', `ingress with name "${name}" already exists (${taken.value.file})`);
    if (await fileExists(at.path)) throw new ApiError('already_exists', `${at.file} already exists in the watched directory`);

    const text = stableStringify({ ...doc, created_at: nowSeconds() });
    const manifest = parseManifest(at.file, text);
    refuseUnlessServable(ctx, manifest);
    const applied = await applyManifest(ctx, at, text, undefined);
    const view = ingressView(manifest, applied.status);
    return { status: applied.settled ? 201 : 202, json: view, headers: { location: `/ingresses/${String(view['id'])}` } };
  });
}

/** Throws the first reason the candidate would not be served, or that a literal target is undeclared. */
function refuseUnlessServable(ctx: ApiContext, manifest: Manifest): void {
  const evaluation = judge(ctx.controller, manifest);
  const blocking = firstBlocking(evaluation.issues);
  if (blocking !== undefined) throw issueError(blocking);
  if (!evaluation.accepted) throw new ApiError('invalid_request', 'the ingress would not be accepted');
  const resource = manifest.resource;
  if (resource?.kind !== 'Ingress') return;
  for (const found of evaluation.issues) {
    if (found.code !== 'instance_not_found') continue;
    // The pointer names the target (`/rules/0/target/instance` or `/rules/0/targets/1/instance`).
    const [, index, list, item] = /^\/rules\/(\d+)\/(target|targets\/(\d+))\//.exec(found.path) ?? [];
    const rule = resource.rules[Number(index)];
    const target = (list === 'target' ? rule?.target : rule?.targets?.[Number(item)])?.instance ?? '';
    throw new ApiError(
      'instance_not_found',
      `${found.path}: instance "${target}" not found; declare it first (PUT /instances/${encodeURIComponent(target)}) or use a pattern hostname`,
    );
  }
}
