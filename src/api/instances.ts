/**
 * `/instances`: PUT creates `<name>.instance.json` in the watched directory, or rewrites the file
 * that already declares the instance (hand-written ones included); list/get/delete as for ingresses.
 */
import { readFile } from 'node:fs/promises';
import { stableStringify } from '../model/canonical.js';
import { deriveId } from '../model/ids.js';
import { isValidName } from '../reconciler/validate.js';
import { parseManifest } from '../manifest/parse.js';
import { deleteResource, getResource, listResources, type View } from './resources.js';
import { applyManifest, firstBlocking, judge, type ApiContext } from './settle.js';
import { entriesOf, existingManifestPath, fileExists, newManifestPath, parseJsonObject, type Located } from './store.js';
import { ApiError, issueError, type ApiRequest, type Reply } from './types.js';
import { refuseUnlessWritable } from './writable-source.js';

/** `{id, name, address, status}`. */
export const instanceView: View = (manifest, status) => {
  const resource = manifest.resource?.kind === 'Instance' ? manifest.resource : undefined;
  const name = resource?.name ?? manifest.name;
  return { id: resource?.id ?? deriveId('Instance', name), name, address: resource?.address ?? null, status: status ?? null };
};

export const listInstances = (ctx: ApiContext): Reply => listResources(ctx, 'Instance', instanceView);
export const getInstance = (ctx: ApiContext, req: ApiRequest): Reply => getResource(ctx, 'Instance', instanceView, req);
export const deleteInstance = (ctx: ApiContext, req: ApiRequest): Promise<Reply> => deleteResource(ctx, 'Instance', instanceView, req);

/**
 * `PUT /instances/{name}` with `{address}` or `{kind: "Instance", name, address}` (a `name` in the
 * body must equal the path's). 201 when created, 200 when replaced, 202 when the reconcile did
 * not finish within the wait bound; a refused replacement restores the previous file.
 */
export async function putInstance(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  const name = req.param;
  if (!isValidName(name)) {
    throw new ApiError('invalid_request', `"${name}" is not a valid instance name: use 1-63 lowercase letters, digits and dashes, not starting or ending with a dash`);
  }
  const doc = parseJsonObject(await req.body());
  if (doc['kind'] !== undefined && doc['kind'] !== 'Instance') {
    throw new ApiError('invalid_request', '/kind: PUT /instances/{name} declares an Instance; set "kind" to "Instance" or leave it out');
  }
  if (doc['name'] !== undefined && doc['name'] !== name) {
    throw new ApiError('invalid_request', `/name: the body names ${JSON.stringify(doc['name'])} but the path names "${name}"; they must match`);
  }
  return ctx.lock.run(async () => {
    const { at, previousText } = await locate(ctx, name);
    await refuseUnlessWritable(ctx.controller.options.api.writes, at.path, `PUT /instances/${name}`);
    const text = stableStringify({ ...doc, kind: 'Instance', name });
    const manifest = parseManifest(at.file, text);
    const blocking = firstBlocking(judge(ctx.controller, manifest).issues);
    if (blocking !== undefined) throw issueError(blocking);
    const applied = await applyManifest(ctx, at, text, previousText);
    const status = !applied.settled ? 202 : previousText === undefined ? 201 : 200;
    return { status, json: instanceView(manifest, applied.status), headers: { location: `/instances/${name}` } };
  });
}

/** The file that declares instance `name` (with its current text), or the new file to create. */
async function locate(ctx: ApiContext, name: string): Promise<{ readonly at: Located; readonly previousText: string | undefined }> {
  const dir = ctx.controller.options.manifestDir;
  const holders = entriesOf(ctx.controller.reconciler, 'Instance').filter((e) => e.name === name);
  if (holders.length > 1) {
    throw new ApiError('ambiguous', `several files declare instance "${name}" (${holders.map((h) => h.value.file).join(', ')}); remove all but one`);
  }
  const holder = holders[0];
  if (holder !== undefined) {
    const at = existingManifestPath(dir, holder.value.file);
    const previousText = await readFile(at.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return { at, previousText };
  }
  const at = newManifestPath(dir, 'Instance', name);
  if (await fileExists(at.path)) throw new ApiError('already_exists', `${at.file} already exists in the watched directory`);
  return { at, previousText: undefined };
}
