/**
 * Lints the Dockerfile and .dockerignore for the rules that matter here (hadolint's DL3002, DL3006,
 * DL3007, DL3009, DL3014, DL3015, DL3020, DL3025, DL3045, DL4006, DL3057 and the image's own
 * contract), since no container engine or hadolint binary is available to build or lint it.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** 1-based line of the instruction's first line. */
  readonly line: number;
  /** Index of the stage (FROM) it belongs to; -1 before the first FROM. */
  readonly stage: number;
}

/** Instructions with continuation lines joined and comments dropped (as Docker reads them). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === undefined)) return;
    const joined = pending === undefined ? { text: line, line: i + 1 } : { text: `${pending.text} ${line}`, line: pending.line };
    if (line.endsWith('\\')) {
      pending = { text: joined.text.slice(0, -1).trimEnd(), line: joined.line };
      return;
    }
    pending = undefined;
    const m = /^(\S+)\s*(.*)$/.exec(joined.text);
    if (!m) return;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: m[2]!, line: joined.line, stage });
  });
  return out;
}

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ALL = parseDockerfile(DOCKERFILE);
const FROMS = ALL.filter((i) => i.keyword === 'FROM');
const LAST = FROMS.length - 1;
const FINAL = ALL.filter((i) => i.stage === LAST);
const inFinal = (keyword: string): Instruction[] => FINAL.filter((i) => i.keyword === keyword);
const stageNames = FROMS.map((f) => /\sAS\s+(\S+)$/i.exec(f.args)?.[1]?.toLowerCase());
const globalArgs = new Map(
  ALL.filter((i) => i.keyword === 'ARG' && i.stage === -1).map((i) => {
    const [name = '', value = ''] = i.args.split('=');
    return [name, value] as const;
  }),
);

function imageOf(from: Instruction): string {
  const image = from.args.split(/\s+/).find((w) => !w.startsWith('--')) ?? '';
  return image.replace(/\$\{?(\w+)\}?/g, (_, name: string) => globalArgs.get(name) ?? '');
}

function jsonArray(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) throw new Error(`not a JSON array of strings: ${args}`);
  return parsed;
}

function envOf(instructions: readonly Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of instructions.filter((x) => x.keyword === 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(m[1]!, m[2]!.replace(/^"|"$/g, ''));
  }
  return env;
}

describe('Dockerfile', () => {
  it('is multi-stage: a Go stage building Caddy, a node build stage and a node runtime', () => {
    expect(FROMS.map(imageOf)).toEqual(['golang:1.26-bookworm', 'node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(stageNames).toEqual(['caddy', 'build', 'runtime']);
  });

  it('builds Caddy from caddy/modules.pin through caddy/xcaddy-args.sh, as scripts/build-caddy.sh does', () => {
    const stage = ALL.filter((i) => i.stage === 0);
    expect(stage.filter((i) => i.keyword === 'COPY').map((i) => i.args)).toEqual(['caddy/modules.pin caddy/xcaddy-args.sh ./caddy/']);
    const build = stage.find((i) => i.keyword === 'RUN' && i.args.includes('xcaddy build'));
    expect(build?.args).toContain('args="$(sh caddy/xcaddy-args.sh ${CADDY_VERSION})"');
    expect(build?.args).toContain('xcaddy build ${args} --output /out/caddy');
    // Every pinned plugin is checked for in the binary, so a silently dropped one fails the build.
    expect(build?.args).toContain('/out/caddy list-modules --packages > /tmp/modules.txt');
    expect(build?.args).toMatch(/grep -q " \$\{word%@\*\}\\\$" \/tmp\/modules\.txt \|\| \{ .*exit 1; \}/);
    // The same xcaddy and the same Go settings as scripts/build-caddy.sh.
    const script = readFileSync(join(ROOT, 'scripts', 'build-caddy.sh'), 'utf8');
    const xcaddy = /^XCADDY_VERSION=(\S+)$/m.exec(script)?.[1];
    expect(stage.find((i) => i.keyword === 'ARG' && i.args.startsWith('XCADDY_VERSION='))?.args).toBe(`XCADDY_VERSION=${xcaddy}`);
    expect(script).toContain('sh "$ARGS" "$VERSION"');
    expect(Object.fromEntries(envOf(stage))).toMatchObject({ CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' });
  });

  it('xcaddy-args.sh gives the pin file\'s first Caddy with its plugins, and honours a plugin\'s minimum Caddy', () => {
    const args = (pinFile: string, ...extra: string[]): string =>
      execFileSync('sh', [join(ROOT, 'caddy', 'xcaddy-args.sh'), ...extra], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PIN_FILE: pinFile } }).trim();
    const pins = readFileSync(join(ROOT, 'caddy', 'modules.pin'), 'utf8');
    const first = /^caddy\s+(\S+)/m.exec(pins)?.[1];
    const real = args(join(ROOT, 'caddy', 'modules.pin'));
    expect(real.split(' ')[0]).toBe(first);
    expect(real).toContain('--with github.com/caddy-dns/cloudflare@');
    expect(real).toContain('--with github.com/caddy-dns/rfc2136@');
    const dir = mkdtempSync(join(tmpdir(), 'ingressd-pin-'));
    try {
      const pin = join(dir, 'modules.pin');
      writeFileSync(pin, '# test\ncaddy v2.11.1\ncaddy v2.10.2\nmodule a/x v1.0.0\nmodule b/y v2.0.0 v2.11.1\nmodule c/z v3.0.0 v2.12.0\n');
      expect(args(pin)).toBe('v2.11.1 --with a/x@v1.0.0 --with b/y@v2.0.0');
      expect(args(pin, 'v2.10.2')).toBe('v2.10.2 --with a/x@v1.0.0');
      expect(args(pin, '--versions')).toBe('v2.11.1\nv2.10.2');
      expect(() => args(pin, 'v9.9.9')).toThrow(/v9\.9\.9 is not a caddy line/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pins every base image by a tag, never latest (DL3006, DL3007)', () => {
    for (const from of FROMS) {
      const image = imageOf(from);
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      expect({ line: from.line, tag }).toEqual({ line: from.line, tag: expect.any(String) });
      expect(tag).not.toBe('latest');
    }
  });

  it('copies only from stages defined earlier', () => {
    for (const copy of ALL.filter((i) => i.keyword === 'COPY' && i.args.includes('--from='))) {
      const from = /--from=(\S+)/.exec(copy.args)![1]!.toLowerCase();
      expect(stageNames.slice(0, copy.stage)).toContain(from);
    }
  });

  it('never ADDs a URL (DL3020)', () => {
    for (const add of ALL.filter((i) => i.keyword === 'ADD')) expect(add.args).not.toMatch(/https?:\/\//);
  });

  it('installs apt packages with -y and --no-install-recommends after an update in the same RUN, and removes the lists (DL3009, DL3014, DL3015)', () => {
    const apt = ALL.filter((i) => i.keyword === 'RUN' && /apt-get\s+(install|update)/.test(i.args));
    expect(apt.length).toBeGreaterThan(0);
    for (const run of apt) {
      expect(run.args).toMatch(/apt-get update\b.*&& apt-get install -y --no-install-recommends /);
      expect(run.args).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
      expect(run.args).not.toMatch(/apt-get (dist-)?upgrade/);
    }
  });

  it('pipes in RUN only under a pipefail SHELL (DL4006)', () => {
    for (const run of ALL.filter((i) => i.keyword === 'RUN' && /[^|]\|[^|]/.test(i.args))) {
      const shell = ALL.filter((i) => i.keyword === 'SHELL' && i.stage === run.stage && i.line < run.line).at(-1);
      expect({ line: run.line, shell: shell?.args }).toEqual({ line: run.line, shell: expect.stringContaining('pipefail') });
    }
  });

  it('sets an absolute WORKDIR before any relative COPY destination (DL3045)', () => {
    for (const i of ALL.filter((x) => x.keyword === 'WORKDIR')) expect(i.args.startsWith('/')).toBe(true);
    for (const copy of ALL.filter((i) => i.keyword === 'COPY')) {
      const dest = copy.args.split(/\s+/).at(-1) ?? '';
      if (dest.startsWith('/')) continue;
      expect(ALL.some((i) => i.keyword === 'WORKDIR' && i.stage === copy.stage && i.line < copy.line)).toBe(true);
    }
  });

  it('runs as the non-root user ingressd (uid 10001), set before ENTRYPOINT (DL3002)', () => {
    const users = inFinal('USER');
    const entrypoint = inFinal('ENTRYPOINT')[0];
    expect(users.map((u) => u.args)).toEqual(['ingressd']);
    expect(entrypoint).toBeDefined();
    expect(users[0]!.line).toBeLessThan(entrypoint!.line);
    expect(FINAL.some((i) => i.keyword === 'RUN' && /useradd --system --uid 10001 --gid ingressd .*\bingressd$/.test(i.args.split('&&')[1]!.trim()))).toBe(true);
  });

  it('gives caddy cap_net_bind_service in the runtime stage, where it cannot be lost by a COPY', () => {
    expect(inFinal('COPY').some((c) => c.args === '--from=caddy /out/caddy /usr/local/bin/caddy')).toBe(true);
    const setcap = inFinal('RUN').find((r) => r.args.includes('setcap'));
    expect(setcap?.args).toContain('setcap cap_net_bind_service=+ep /usr/local/bin/caddy');
    expect(setcap?.args).toContain('apt-get purge -y --auto-remove libcap2-bin');
    expect(setcap?.args).toContain('ca-certificates');
  });

  it('uses the exec (JSON) form for ENTRYPOINT and CMD (DL3025), starting the built CLI with run', () => {
    expect(jsonArray(inFinal('ENTRYPOINT')[0]!.args)).toEqual(['node', '/opt/ingressd/dist/src/cli/main.js']);
    expect(jsonArray(inFinal('CMD')[0]!.args)).toEqual(['run']);
    // The path is what `npm run build` emits: tsconfig.build.json maps src/ to dist/src/.
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(existsSync(join(ROOT, 'src', 'cli', 'main.ts'))).toBe(true);
    expect(inFinal('WORKDIR').map((w) => w.args)).toEqual(['/opt/ingressd']);
    expect(inFinal('COPY').some((c) => c.args === '--from=build /src/dist ./dist')).toBe(true);
  });

  it('has a HEALTHCHECK that probes /healthz where API_LISTEN serves it (DL3057)', () => {
    const [health] = inFinal('HEALTHCHECK');
    expect(health?.args).toContain(`CMD node -e "fetch('http://127.0.0.1:8089/healthz')`);
    expect(envOf(FINAL).get('API_LISTEN')).toBe('127.0.0.1:8089');
  });

  it('sets the documented environment, volumes and ports', () => {
    expect(Object.fromEntries(envOf(FINAL))).toMatchObject({
      DATA_DIR: '/var/lib/ingressd',
      MANIFEST_DIR: '/etc/ingressd/manifests',
      CADDY_LISTEN_ADDRESS: '0.0.0.0',
      API_LISTEN: '127.0.0.1:8089',
    });
    expect(jsonArray(inFinal('VOLUME')[0]!.args)).toEqual(['/etc/ingressd/manifests', '/var/lib/ingressd']);
    expect(inFinal('EXPOSE').map((e) => e.args)).toEqual(['80 443']);
    // Declared after the chown, so new named volumes start out owned by the service user.
    const chown = FINAL.find((i) => i.keyword === 'RUN' && i.args.includes('chown ingressd:ingressd /etc/ingressd/manifests /var/lib/ingressd'));
    expect(chown?.line).toBeLessThan(inFinal('VOLUME')[0]!.line);
  });
});

describe('.dockerignore', () => {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ negate: l.startsWith('!'), pattern: l.replace(/^!/, '').replace(/\/$/, '') }));
  /** Docker's rule: the last matching pattern wins; a pattern also covers everything below it. */
  const isIgnored = (path: string): boolean => {
    let ignored = false;
    for (const { negate, pattern } of rules) {
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*/g, '[^/]*')}(?:/.*)?$`);
      if (re.test(path)) ignored = !negate;
    }
    return ignored;
  };

  it('lets in every path the Dockerfile copies from the build context', () => {
    const sources = ALL.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package-lock.json', 'src', 'schemas', 'caddy/modules.pin', 'caddy/xcaddy-args.sh']));
    for (const source of sources) {
      expect({ source, ignored: isIgnored(source) }).toEqual({ source, ignored: false });
      expect(existsSync(join(ROOT, source))).toBe(true);
    }
    expect(isIgnored('src/cli/main.ts')).toBe(false);
  });

  it('keeps local state out of the build context', () => {
    for (const path of ['node_modules', 'dist/src/cli/main.js', '.git', '.ingressd/data', 'test/unit/x.test.ts', 'manifests/examples/a.json', 'src/x.log']) {
      expect({ path, ignored: isIgnored(path) }).toEqual({ path, ignored: true });
    }
  });
});
