import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { removePath } from '../lib/output/cleanup.js';
import { writeTree } from '../lib/output/writer.js';
import { checkOutput, synthesize } from '../lib/synth.js';
import { readTree } from '../lib/diff/tree.js';
import { loadFixture } from './support/render.js';

const dirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'platform-writer-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function snapshotDir(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    // Skips the writer's hidden siblings: what a reader of <out>/<target> sees.
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) {
        if (!entry.startsWith('.')) walk(full);
      }
      else out[relative(root, full)] = `${(statSync(full).mode & 0o777).toString(8)} ${readFileSync(full, 'utf8')}`;
    }
  };
  walk(root);
  return out;
}

describe('removePath', () => {
  it('removes a folder whole, a file, and a link itself (dangling or not), never what a link names', () => {
    const dir = scratch();
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'keep\n');
    const folder = join(dir, 'folder');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(folder, 'sub', 'file.txt'), 'x\n');
    symlinkSync(outside, join(folder, 'inner-link'));
    symlinkSync(outside, join(dir, 'link-to-folder'));
    symlinkSync(join(dir, 'gone'), join(dir, 'dangling-link'));
    writeFileSync(join(dir, 'file.txt'), 'x\n');
    for (const name of ['folder', 'link-to-folder', 'dangling-link', 'file.txt', 'never-there']) removePath(join(dir, name));
    expect(readdirSync(dir)).toEqual(['outside']);
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep\n');
  });
});

describe('writeTree', () => {
  it('removes a dangling .<target>.previous link beside the tree (what rmSync left on Node 23+ after a migration) and swaps as usual', () => {
    const out = scratch();
    writeTree(out, 'compose', [{ path: 'a.txt', content: 'old\n' }]);
    symlinkSync('.compose.tree-0123456789abcdef', join(out, '.compose.previous'));
    // A changed tree: the swap renames compose to .compose.previous, which a link there would refuse (ENOTDIR).
    writeTree(out, 'compose', [{ path: 'a.txt', content: 'new\n' }]);
    expect(readdirSync(out)).toEqual(['compose']);
    expect(snapshotDir(join(out, 'compose'))).toEqual({ 'a.txt': '644 new\n' });
  });

  it('gives byte-identical output for the same input, both targets', async () => {
    const a = scratch();
    const b = scratch();
    await synthesize(referenceConfig(), { target: 'all', flavor: 'coolify', outDir: a });
    await synthesize(referenceConfig(), { target: 'all', flavor: 'coolify', outDir: b });
    expect(snapshotDir(a)).toEqual(snapshotDir(b));
    expect(Object.keys(snapshotDir(a)).length).toBeGreaterThan(180);
  });

  it('makes networks.sh and create-secrets.sh executable', async () => {
    const out = scratch();
    await synthesize(referenceConfig(), { target: 'all', flavor: 'coolify', outDir: out });
    expect(statSync(join(out, 'compose/homelab/networks.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, 'k3s/secrets/create-secrets.sh')).mode & 0o777).toBe(0o755);
  });

  it('prunes stale files inside its folder and touches nothing beside it', async () => {
    const out = scratch();
    writeFileSync(join(out, 'keep-me.txt'), 'mine');
    mkdirSync(join(out, 'k3s'));
    writeFileSync(join(out, 'k3s/other-target.yaml'), 'x');
    await synthesize(loadFixture('valid', 'optimal'), { target: 'compose', flavor: 'coolify', outDir: out });
    expect(existsSync(join(out, 'compose/gpu-b/video-backup/compose.yaml'))).toBe(true);
    await synthesize(referenceConfig(), { target: 'compose', flavor: 'coolify', outDir: out });
    expect(existsSync(join(out, 'compose/gpu-b'))).toBe(false);
    expect(readFileSync(join(out, 'keep-me.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'k3s/other-target.yaml'), 'utf8')).toBe('x');
    expect(readdirSync(out).sort()).toEqual(['compose', 'k3s', 'keep-me.txt']);
  });

  it('leaves the previous output untouched when writing fails half-way', () => {
    const out = scratch();
    writeTree(out, 'compose', [{ path: 'a/compose.yaml', content: 'old\n' }]);
    const before = snapshotDir(out);
    // 'b' as a file and 'b/c' as a file cannot both exist: the second write fails.
    expect(() =>
      writeTree(out, 'compose', [
        { path: 'a/compose.yaml', content: 'new\n' },
        { path: 'b', content: 'x' },
        { path: 'b/c', content: 'y' },
      ]),
    ).toThrow();
    expect(snapshotDir(out)).toEqual(before);
    expect(readdirSync(out)).toEqual(['compose']);
    expect(lstatSync(join(out, 'compose')).isDirectory()).toBe(true);
  });

  it('replaces a tree where a FIFO or a link stands at a rendered file, without reading through either', () => {
    const out = scratch();
    const files = [
      { path: 'README.md', content: 'readme\n' },
      { path: 'a/pipe.txt', content: 'pipe\n' },
      { path: 'a/link.txt', content: 'link\n' },
    ];
    writeTree(out, 'compose', files);
    const tree = join(out, 'compose');
    // Same contents otherwise: only the kinds differ. A read of the FIFO would wait for a writer forever.
    rmSync(join(tree, 'a/pipe.txt'));
    execFileSync('mkfifo', [join(tree, 'a/pipe.txt')]);
    const target = join(out, 'outside.txt');
    writeFileSync(target, 'link\n');
    rmSync(join(tree, 'a/link.txt'));
    symlinkSync(target, join(tree, 'a/link.txt'));
    writeTree(out, 'compose', files);
    expect(lstatSync(join(tree, 'a/pipe.txt')).isFile()).toBe(true);
    expect(lstatSync(join(tree, 'a/link.txt')).isFile()).toBe(true);
    expect(snapshotDir(tree)).toEqual({ 'README.md': '644 readme\n', 'a/pipe.txt': '644 pipe\n', 'a/link.txt': '644 link\n' });
    expect(readFileSync(target, 'utf8')).toBe('link\n');
  });

  it('rewrites a tree whose contents are the same but a mode is not', () => {
    const out = scratch();
    const files = [
      { path: 'README.md', content: 'readme\n' },
      { path: 'a/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
    ];
    writeTree(out, 'compose', files);
    chmodSync(join(out, 'compose/a/run.sh'), 0o644);
    writeTree(out, 'compose', files);
    expect(statSync(join(out, 'compose/a/run.sh')).mode & 0o777).toBe(0o755);
    // Every permission bit counts: a setuid bit added by hand is a difference too.
    chmodSync(join(out, 'compose/README.md'), 0o4644);
    writeTree(out, 'compose', files);
    expect(statSync(join(out, 'compose/README.md')).mode & 0o7777).toBe(0o644);
  });

  it('rewrites only what changed: an unchanged file keeps its inode and modification time', () => {
    const out = scratch();
    const before = [
      { path: 'README.md', content: 'readme\n' },
      { path: 'a/same.yaml', content: 'same: 1\n' },
      { path: 'a/same-size.yaml', content: 'size: 1\n' },
      { path: 'a/longer.yaml', content: 'x: 1\n' },
      { path: 'a/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
    ];
    writeTree(out, 'compose', before);
    const stat = (path: string) => lstatSync(join(out, 'compose', path));
    const old = Object.fromEntries(before.map((f) => [f.path, stat(f.path)]));
    const after = [
      before[0],
      before[1],
      { path: 'a/same-size.yaml', content: 'size: 2\n' },
      { path: 'a/longer.yaml', content: 'x: 10\n' },
      before[4],
      { path: 'b/new.yaml', content: 'new: 1\n' },
    ] as typeof before;
    writeTree(out, 'compose', after);
    for (const path of ['README.md', 'a/same.yaml', 'a/run.sh']) {
      expect([path, stat(path).ino, stat(path).mtimeMs]).toEqual([path, old[path]?.ino, old[path]?.mtimeMs]);
    }
    for (const path of ['a/same-size.yaml', 'a/longer.yaml']) expect([path, stat(path).ino === old[path]?.ino]).toEqual([path, false]);
    expect(snapshotDir(join(out, 'compose'))).toEqual(Object.fromEntries(after.map((f) => [f.path, `${(f.mode ?? 0o644).toString(8)} ${f.content}`])));
    // The old tree is gone, so nothing shares an inode with the tree: editing a file edits that file only.
    expect(readdirSync(out)).toEqual(['compose']);
    expect(stat('a/same.yaml').nlink).toBe(1);
  });

  it('writes an unchanged file anew when a permission bit beyond 0777 was added by hand', () => {
    const out = scratch();
    const files = [{ path: 'README.md', content: 'readme\n' }, { path: 'a/x.yaml', content: 'x: 1\n' }];
    writeTree(out, 'compose', files);
    chmodSync(join(out, 'compose/README.md'), 0o4644);
    writeTree(out, 'compose', [files[0], { path: 'a/x.yaml', content: 'x: 2\n' }] as typeof files);
    expect(lstatSync(join(out, 'compose/README.md')).mode & 0o7777).toBe(0o644);
  });

  it.runIf(process.getuid?.() === 0)('writes an unchanged file anew when another user owns it (the tree stays the writer’s own)', () => {
    const out = scratch();
    const files = [{ path: 'README.md', content: 'readme\n' }, { path: 'a/x.yaml', content: 'x: 1\n' }];
    writeTree(out, 'compose', files);
    chownSync(join(out, 'compose/README.md'), 65534, 65534);
    const old = lstatSync(join(out, 'compose/README.md'));
    writeTree(out, 'compose', [files[0], { path: 'a/x.yaml', content: 'x: 2\n' }] as typeof files);
    const now = lstatSync(join(out, 'compose/README.md'));
    expect([now.ino === old.ino, now.uid]).toEqual([false, 0]);
  });

  it('refuses paths that leave the output folder', () => {
    const out = scratch();
    expect(() => writeTree(out, 'compose', [{ path: '../escape.txt', content: 'x' }])).toThrow(/outside the output folder/);
    expect(() => writeTree(out, '../up', [])).toThrow(/outside the output folder/);
    expect(existsSync(join(out, '..', 'escape.txt'))).toBe(false);
  });

  it('synth --check and diff finish a swap killed between its two renames before reading', async () => {
    const out = scratch();
    const options = { target: 'all', flavor: 'coolify', outDir: out } as const;
    await synthesize(referenceConfig(), options);
    const whole = snapshotDir(out);
    // The state between `k3s -> .k3s.previous` and `.k3s.next -> k3s`: no k3s, both whole trees beside it.
    cpSync(join(out, 'k3s'), join(out, '.k3s.next'), { recursive: true });
    renameSync(join(out, 'k3s'), join(out, '.k3s.previous'));
    expect(await checkOutput(referenceConfig(), options)).toEqual([]);
    expect(lstatSync(join(out, 'k3s')).isDirectory()).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['compose', 'k3s']);

    cpSync(join(out, 'compose'), join(out, '.compose.next'), { recursive: true });
    renameSync(join(out, 'compose'), join(out, '.compose.previous'));
    expect([...readTree(out).keys()].sort()).toEqual(Object.keys(whole).sort());
    expect(readdirSync(out).sort()).toEqual(['compose', 'k3s']);
    expect(snapshotDir(out)).toEqual(whole);
  });
});
