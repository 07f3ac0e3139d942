/**
 * Golden render cases: `test/golden/<case>/input.json` holds `{ingresses, instances, settings}`
 * (settings as RenderSettings, with unset optional fields left out), and `expected.json` holds
 * `stableStringify(render(...).config)`. Read by the golden unit test and the Caddy validate test.
 */
import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ingress, Instance } from '../../src/model/resource.js';
import type { RenderSettings } from '../../src/model/settings.js';
import type { RenderInput } from '../../src/render/index.js';

export const GOLDEN_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface GoldenCase {
  readonly name: string;
  readonly dir: string;
  readonly input: RenderInput;
  readonly settings: RenderSettings;
  /** Path of expected.json (may not exist yet: UPDATE_GOLDEN=1 creates it). */
  readonly expectedFile: string;
}

interface InputFile {
  readonly ingresses: readonly Ingress[];
  readonly instances: readonly Instance[];
  readonly settings: RenderSettings;
}

/** Every case directory, sorted by name. Throws with the file name on a malformed input.json. */
export function loadGoldenCases(): GoldenCase[] {
  return readdirSync(GOLDEN_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(GOLDEN_DIR, entry.name, 'input.json')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => loadCase(name));
}

function loadCase(name: string): GoldenCase {
  const dir = join(GOLDEN_DIR, name);
  const file = join(dir, 'input.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as InputFile;
  if (!Array.isArray(parsed.ingresses) || !Array.isArray(parsed.instances) || typeof parsed.settings !== 'object') {
    throw new Error(`${file}: expected {"ingresses": [...], "instances": [...], "settings": {...}}`);
  }
  return {
    name,
    dir,
    input: { ingresses: parsed.ingresses, instances: parsed.instances },
    // Rendered for the default Caddy (the newest the project builds) and no trusted proxies unless the case names them.
    settings: { ...parsed.settings, caddy: parsed.settings.caddy ?? DEFAULT_CADDY, trustedProxies: parsed.settings.trustedProxies ?? [] },
    expectedFile: join(dir, 'expected.json'),
  };
}
