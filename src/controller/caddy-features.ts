/**
 * The one place where settings that depend on which Caddy runs are decided. `resolveOptions`
 * calls `renderForCaddy` with no `CaddyInfo` (nothing is known yet at that point); once the Caddy
 * ingressd drives is known (its version from `caddy version` or the adopted process), call it
 * again with that `CaddyInfo` and use the returned settings for every render.
 */
import { atLeast, SINCE, type CaddyInfo } from '../model/caddy-version.js';
import type { RenderSettings } from '../model/settings.js';

/** What the user asked for, before it is matched to a Caddy. */
export interface CaddyDependentRequest {
  /** STREAM_CLOSE_DELAY as given, or its default; undefined when it is 0 (close at once). */
  readonly streamCloseDelay: string | undefined;
  /** True when STREAM_CLOSE_DELAY was set (environment or flag), false when it is the default. */
  readonly streamCloseDelayExplicit: boolean;
}

/**
 * `stream_close_delay` to render, or undefined for none:
 * - with a known Caddy: the requested delay on Caddy 2.7 or later, none before (2.6.2 rejects the
 *   field, so rendering it would fail every write);
 * - without one: the delay only when STREAM_CLOSE_DELAY was set explicitly, since an unknown Caddy
 *   may be Debian's 2.6.2.
 */
export function streamCloseDelayFor(request: CaddyDependentRequest, caddy: CaddyInfo | undefined): string | undefined {
  if (request.streamCloseDelay === undefined) return undefined;
  if (caddy === undefined) return request.streamCloseDelayExplicit ? request.streamCloseDelay : undefined;
  return atLeast(caddy.version, SINCE.streamCloseDelay) ? request.streamCloseDelay : undefined;
}

/** `render` with every Caddy-dependent field decided for `caddy` (undefined: not known yet). */
export function renderForCaddy(render: RenderSettings, request: CaddyDependentRequest, caddy: CaddyInfo | undefined): RenderSettings {
  return { ...render, streamCloseDelay: streamCloseDelayFor(request, caddy) };
}
