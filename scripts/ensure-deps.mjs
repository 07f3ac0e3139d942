#!/usr/bin/env node
// Runs before `npm test`: on a fresh clone, install the npm packages first (`npm ci`), so the
// README's test command works as the first command too. A no-op once node_modules is in place.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
