import { describe, expect, it } from '@jest/globals';
import { isManifestPath, manifestStem, statusPathFor } from '../../src/manifest/manifest-files.js';

describe('isManifestPath', () => {
  it.each([
    ['web.json', true],
    ['team-a/web.json', true],
    ['a/b/c/my-api.json', true],
    ['web.status.json', false],
    ['team-a/web.status.json', false],
    ['web.yaml', false],
    ['web.JSON', false],
    ['web', false],
    ['.json', false],
    ['.hidden.json', false],
    ['.git/config.json', false],
    ['team/.cache/web.json', false],
    ['./web.json', false],
    ['../web.json', false],
    ['/web.json', false],
    ['a//web.json', false],
    ['', false],
    ['web.json~', false],
    ['web.json.swp', false],
    ['.web.json.swp', false],
    ['web.json.swx', false],
    ['web.json.tmp', false],
    ['4913', false],
    ['#web.json#', false],
    ['.#web.json', false],
    ['#web.json', true],
  ])('%j → %s', (path, expected) => {
    expect(isManifestPath(path)).toBe(expected);
  });
});

describe('statusPathFor and manifestStem', () => {
  it.each([
    ['web.json', 'web.status.json', 'web'],
    ['team-a/web.json', 'team-a/web.status.json', 'web'],
    ['a/b/my.api.json', 'a/b/my.api.status.json', 'my.api'],
  ])('%s → %s (stem %s)', (path, status, stem) => {
    expect(statusPathFor(path)).toBe(status);
    expect(manifestStem(path)).toBe(stem);
    expect(isManifestPath(status)).toBe(false);
  });
});
