import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TreeDiff } from '../lib/diff/compare.js';
import { compareResources, diffTrees } from '../lib/diff/compare.js';
import { formatMarkdown, GITHUB_COMMENT_LIMIT } from '../lib/diff/format.js';
import { MASK } from '../lib/diff/mask.js';
import { resourcesOf } from '../lib/diff/resources.js';
import { copyOfCheckout } from './support/checkout.js';
import { platformInProcess } from './support/cli.js';
import { renderK3sTree } from './support/k3s.js';
import { loadFixture, renderTree } from './support/render.js';
import { referenceConfig } from '../lib/config/load.js';

/*
 * Temporary git repositories holding this project's code and a platform.yaml, with a second
 * commit that changes the config; `platform diff` renders a base commit with the running code
 * in-process and one with other code in a scratch folder of its own, built by its own build, the
 * working tree with the running code. The commands run in-process (main, with the repository as
 * the command's folder), except where the built CLI is the point: its recorded source digest (a
 * revision with its code renders in-process), the exit status as the OS sees it, and a run killed
 * by a signal.
 */

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'build', 'bin', 'platform.js');
const scratch = mkdtempSync(join(tmpdir(), 'platform-diff-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const BASE_CONFIG = `apps:
  api:
    image: ghcr.io/me/api:1.0.0
    port: 3001
    connects: [litellm, postgres]
    secrets: [DB_PASSWORD]
    route: { host: api }
`;

async function sh(cwd: string, cmd: string, args: string[]) {
  const result = await execa(cmd, args, { cwd, reject: false });
  if (result.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A repository with the project's code (as in this working tree) and `config` committed. */
async function repoWith(name: string, config: string | undefined, edit?: (dir: string) => void): Promise<string> {
  const repo = copyOfCheckout(join(scratch, name));
  edit?.(repo);
  writeFileSync(join(repo, '.gitignore'), 'node_modules\nbuild\ndist\n');
  if (config !== undefined) writeFileSync(join(repo, 'platform.yaml'), config);
  await sh(repo, 'git', ['init', '--quiet', '--initial-branch', 'main']);
  await sh(repo, 'git', ['add', '-A']);
  await sh(repo, 'git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '--quiet', '-m', 'base']);
  return repo;
}

async function commit(repo: string, config: string): Promise<void> {
  writeFileSync(join(repo, 'platform.yaml'), config);
  await sh(repo, 'git', ['add', 'platform.yaml']);
  await sh(repo, 'git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '--quiet', '-m', 'change']);
}

/** `platform diff` in-process, run in `repo`. */
function diff(repo: string, args: string[]) {
  return platformInProcess(['diff', ...args], { cwd: repo });
}

/** `platform diff` through the built CLI, in a child process run in `repo`. */
function builtDiff(repo: string, args: string[], env?: NodeJS.ProcessEnv) {
  return execa('node', [CLI, 'diff', ...args], { cwd: repo, reject: false, env });
}

/** The worktrees git knows of in `repo` (the repository's own, and any a run left behind). */
async function worktrees(repo: string): Promise<string[]> {
  return (await sh(repo, 'git', ['worktree', 'list', '--porcelain'])).split('\n').filter((l) => l.startsWith('worktree '));
}

/** The `#### ...` headings of one app's section in a markdown comment. */
function headings(markdown: string, app: string): string[] {
  const section = markdown.split('<details>').find((s) => s.includes(`<b>${app}</b>`)) ?? '';
  return [...section.matchAll(/^#### (.+)$/gm)].map((m) => m[1] as string);
}

describe('platform diff between revisions', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await repoWith('scenarios', BASE_CONFIG);
  });

  it('no change: exit 0 and says so (the built CLI: its recorded digest is the code, so nothing is built)', async () => {
    const result = await builtDiff(repo, ['--base', 'HEAD', '--config', 'platform.yaml']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('platform diff HEAD -> working tree\nNo changes.');
  });

  it('a changed model, a new service, a removed stack, a changed secret reference', async () => {
    const head = BASE_CONFIG.replace('secrets: [DB_PASSWORD]', 'secrets: [DATABASE_PASSWORD]') +
      `  worker:
    image: ghcr.io/me/worker:2.1.0
    port: 8080
    connects: [api]
services:
  searxng: { enabled: false }
models:
  ollama:
    - { name: qwen2.5:32b-instruct-q5_K_M, alias: gpt-4, vramGb: 23.3 }
    - { name: nomic-embed-text, alias: text-embedding-ada-002, vramGb: 0.3, mode: embedding }
`;
    await commit(repo, head);
    const result = await diff(repo, ['--base', 'HEAD~1', '--config', 'platform.yaml', '--format', 'markdown']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(1);
    const md = result.stdout;
    expect(md.split('\n').slice(0, 6)).toEqual([
      '<!-- platform-diff -->',
      '### platform diff: `HEAD~1` → `working tree`',
      '',
      'Modified (22): ± compose (+17|-24), ± compose/homelab/apps (+40|-4), ± compose/homelab/chat (+1|-7), ± compose/homelab/data (+1|-1), ' +
        '± compose/homelab/dns (+2|-3), ± compose/homelab/edge (+1|-6), ± compose/homelab/llm (+1|-16), ± compose/homelab/monitoring (+2|-4), ' +
        '± compose/rtx/image (+1|-1), ± compose/rtx/llm (+2|-4), ± compose/rtx/monitoring (+1|-1), ± compose/rtx/video (+1|-1), ± compose/rtx/video-backup (+1|-1), ± k3s (+14|-23), ' +
        '± k3s/apps (+96|-3), ± k3s/argocd (+4|-37), ± k3s/chat (+0|-6), ± k3s/dns (+3|-4), ± k3s/edge (+1|-6), ± k3s/llm (+2|-19), ' +
        '± k3s/monitoring (+2|-3), ± k3s/network-policies (+32|-130)  ',
      'Removed (2): - compose/homelab/search (+0|-116), - k3s/search (+0|-170)',
      '',
    ]);
    // The changed model: LiteLLM's config and the Ollama pull list.
    expect(headings(md, 'k3s/llm')).toEqual([
      expect.stringMatching(/^~ ConfigMap edge\/litellm-config /),
      expect.stringMatching(/^~ Deployment edge\/litellm /),
      expect.stringMatching(/^~ Job gpu\/ollama-init /),
    ]);
    expect(md).toContain('-          model: ollama_chat/llama3.3:70b-instruct-q4_K_M\n');
    // The new service.
    expect(headings(md, 'k3s/apps')).toEqual([
      expect.stringMatching(/^~ Deployment edge\/api /),
      expect.stringMatching(/^\+ Deployment edge\/worker /),
      expect.stringMatching(/^\+ Service edge\/worker /),
    ]);
    // The removed stack.
    expect(headings(md, 'k3s/search')).toEqual(['- ConfigMap services/searxng-config (+0|-55)', '- Deployment services/searxng (+0|-96)', '- Service services/searxng (+0|-19)']);
    // The changed secret reference shows, by name.
    expect(md).toContain('-            - name: DB_PASSWORD\n+            - name: DATABASE_PASSWORD\n');
    expect(md).toContain('-                  key: DB_PASSWORD\n-                  name: db-password\n+                  key: DATABASE_PASSWORD\n+                  name: database-password\n');
    expect(md).toContain('-  DB_PASSWORD: ${DB_PASSWORD:?}\n+  DATABASE_PASSWORD: ${DATABASE_PASSWORD:?}\n');
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
  });

  it('json gives the same changes as data; --head renders another revision with its own code', async () => {
    const result = await diff(repo, ['--base', 'HEAD~1', '--head', 'HEAD', '--config', 'platform.yaml', '--format', 'json']);
    expect(result.exitCode).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ base: 'HEAD~1', head: 'HEAD', changed: true });
    const search = json.apps.find((a: { app: string }) => a.app === 'k3s/search');
    expect(search.status).toBe('removed');
    expect(search.resources.map((r: { status: string }) => r.status)).toEqual(['removed', 'removed', 'removed']);
  });

  it('exits 2 for a revision that does not exist', async () => {
    const result = await diff(repo, ['--base', 'no-such-branch']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("error: git rev-parse --verify no-such-branch^{commit}: fatal: Needed a single revision");
  });
});

describe('a revision with other code than the running build', () => {
  let repo: string;
  beforeAll(async () => {
    // The base commit's code titles a README section differently; the head commit has this code.
    repo = await repoWith('other-code', BASE_CONFIG, (dir) => {
      const docs = join(dir, 'lib/compose/docs.ts');
      writeFileSync(docs, readFileSync(docs, 'utf8').replace("'## Deploy order'", "'## Order of deployment'"));
    });
    cpSync(join(ROOT, 'lib/compose/docs.ts'), join(repo, 'lib/compose/docs.ts'));
    await sh(repo, 'git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '--quiet', '-am', 'code']);
  });

  it('a run killed while it builds leaves no worktree and no scratch folder', async () => {
    // Its own temporary folder, to see what the run leaves there.
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    const child = builtDiff(repo, ['--base', 'HEAD~1', '--config', 'platform.yaml'], { ...process.env, TMPDIR: tmp });
    // Killed once it works in its scratch folder: git has written the revision's index there.
    const working = () => readdirSync(tmp).some((d) => existsSync(join(tmp, d, 'index')));
    for (let waited = 0; !working(); waited += 20) {
      if (waited > 30_000 || child.exitCode !== null) throw new Error(`the run never reached its build: ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    const result = await child;
    // Ended by the signal (or, had something else caught it, with the shell's code for it: 128 + 15).
    expect(result.signal ?? result.exitCode, result.stderr).toBeOneOf(['SIGTERM', 143]);
    expect(readdirSync(tmp)).toEqual([]);
    expect(await worktrees(repo)).toEqual([`worktree ${repo}`]);
    // Nothing half-built is kept for the next run.
    expect(existsSync(join(repo, '.git', 'platform-diff', 'builds')) ? readdirSync(join(repo, '.git', 'platform-diff', 'builds')) : []).toEqual([]);
  });

  it('is checked out in a scratch folder, built and rendered by its own code; a revision with the same code renders in-process', async () => {
    const result = await diff(repo, ['--base', 'HEAD~1', '--config', 'platform.yaml']);
    expect(result.stderr).toBe('platform diff: HEAD~1 has other code than this build; building it in a scratch folder');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('\n    -## Order of deployment\n    +## Deploy order\n');
    // Its own code, the same config: only the code's change shows.
    expect(result.stdout).toMatch(/^platform diff HEAD~1 -> working tree\nModified \(1\): ± compose \(\+1\|-1\)\n/);
    const same = await diff(repo, ['--base', 'HEAD', '--config', 'platform.yaml']);
    expect([same.exitCode, same.stderr]).toEqual([0, '']);
    // No git worktree is made, so none is left.
    expect(await worktrees(repo)).toEqual([`worktree ${repo}`]);
    // The next diff against that revision reuses its build, kept in the repository's git folder by code digest.
    const builds = join(repo, '.git', 'platform-diff', 'builds');
    expect(readdirSync(builds)).toHaveLength(1);
    const again = await diff(repo, ['--base', 'HEAD~1', '--config', 'platform.yaml']);
    expect(again.stderr).toBe(`platform diff: HEAD~1 has other code than this build; reusing its build from ${join(builds, readdirSync(builds)[0] as string)}`);
    expect([again.exitCode, again.stdout]).toEqual([1, result.stdout]);
  });
});

describe('a diff too large for one comment', () => {
  it('keeps the summary whole and cuts the largest sections with a notice', async () => {
    // The first commit has no platform.yaml: everything is new.
    const repo = await repoWith('from-nothing', undefined);
    await commit(repo, BASE_CONFIG);
    const result = await diff(repo, ['--base', 'HEAD~1', '--config', 'platform.yaml', '--format', 'markdown']);
    expect(result.exitCode).toBe(1);
    const md = result.stdout;
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(md).toMatch(/^<!-- platform-diff -->\n### platform diff: `HEAD~1` → `working tree`\n\nAdded \(\d+\): \+ compose \(/);
    expect(md).toMatch(/\n_\d+ of \d+ sections were cut to stay under GitHub's 65,536-character comment limit\._\n/);
    expect(md).toMatch(/\(cut\)<\/summary>\n\nThis section \([\d,]+ characters\) does not fit in a comment\. See it in full with `platform diff --base HEAD~1 --format text` or in the job log\./);
    // Every app is still in the summary line.
    expect(md).toContain('+ k3s/monitoring (');
  });

  it('formatMarkdown: what is cut is the largest, the rest stays', () => {
    const app = (name: string, lines: number) => ({
      app: name,
      status: 'changed' as const,
      additions: lines,
      deletions: 0,
      resources: [{ key: name, title: `ConfigMap x/${name}`, status: 'changed' as const, additions: lines, deletions: 0, diff: `@@ -0,0 +1,${lines} @@\n${'+line\n'.repeat(lines)}` }],
    });
    const diff: TreeDiff = { changed: true, apps: [app('small', 10), app('huge', 5000), app('medium', 100)] };
    const md = formatMarkdown(diff, { base: 'main', head: 'pr' }, 4000);
    expect(md.length).toBeLessThanOrEqual(4000);
    expect(md).toContain('Modified (3): ± small (+10|-0), ± huge (+5000|-0), ± medium (+100|-0)');
    expect(md).toContain('<b>huge</b> (+5000|-0): 1 changed (cut)');
    expect(md).toContain('#### ~ ConfigMap x/small (+10|-0)');
    expect(md).toContain('#### ~ ConfigMap x/medium (+100|-0)');
  });
});

describe('platform diff of two folders', () => {
  const write = (dir: string, files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };
  const secretA = 'sk-aaaaaaaaaaaaaaaaaaaaaaaa';
  const secretB = 'sk-bbbbbbbbbbbbbbbbbbbbbbbb';
  const a = join(scratch, 'folder-a');
  const b = join(scratch, 'folder-b');
  write(a, {
    'k3s/apps/llm/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: litellm, namespace: edge }\nspec: { replicas: 1, template: { spec: { containers: [{ name: litellm, env: [{ name: LITELLM_MASTER_KEY, value: hunter2 }] }] } } }\n',
    'k3s/apps/llm/secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata: { name: keys, namespace: edge }\nstringData: { key: ${secretA} }\n`,
    'compose/homelab/llm/compose.yaml': `name: llm\nservices:\n  litellm:\n    image: litellm:1\n    environment: { API_KEY: ${secretA}, MODE: a }\n`,
    'compose/homelab/llm/.env.example': `PG_PASSWORD=${secretA}\n`,
  });
  // The same objects with keys reordered and reformatted, and every secret value changed.
  write(b, {
    'k3s/apps/llm/all.yaml': 'kind: Deployment\napiVersion: apps/v1\nmetadata:\n  namespace: edge\n  name: litellm\nspec:\n  template: { spec: { containers: [{ env: [{ value: correct-horse, name: LITELLM_MASTER_KEY }], name: litellm }] } }\n  replicas: 2\n',
    'k3s/apps/llm/secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata: { name: keys, namespace: edge }\nstringData: { key: ${secretB} }\n`,
    'compose/homelab/llm/compose.yaml': `# a comment\nservices:\n  litellm:\n    environment: { MODE: a, API_KEY: ${secretB} }\n    image: litellm:1\nname: llm\n`,
    'compose/homelab/llm/.env.example': `PG_PASSWORD=${secretB}\n`,
  });

  it('matches objects by identity, so key order and formatting never show; only replicas changed', async () => {
    const result = await platformInProcess(['diff', a, b]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(
      [
        `platform diff ${a} -> ${b}`,
        'Modified (1): ± k3s/llm (+1|-1)',
        '',
        '± k3s/llm (+1|-1): 1 changed',
        '  ~ Deployment edge/litellm',
        '    @@ -4,7 +4,7 @@',
        '       name: litellm',
        '       namespace: edge',
        '     spec:',
        '    -  replicas: 1',
        '    +  replicas: 2',
        '       template:',
        '         spec:',
        '           containers:',
      ].join('\n'),
    );
  });

  it.each(['text', 'markdown', 'json'])('never shows a secret value (%s)', async (format) => {
    const result = await platformInProcess(['diff', a, b, '--format', format]);
    for (const secret of [secretA, secretB, 'hunter2', 'correct-horse']) expect(result.stdout).not.toContain(secret);
  });

  it('reads only the files whose bytes differ, and finds what reading every file finds', async () => {
    /** Both rendered trees of a config, by path as `platform synth` writes them. */
    const tree = async (loaded: ReturnType<typeof referenceConfig>) =>
      new Map([
        ...[...renderTree(loaded, 'coolify').files].map(([path, content]) => [`compose/${path}`, content] as const),
        ...[...(await renderK3sTree(loaded)).files].map(([path, content]) => [`k3s/${path}`, content] as const),
      ]);
    const reference = await tree(referenceConfig());
    // Every file of a tree read once: the reference's resources serve all six comparisons.
    const referenceResources = resourcesOf(reference);
    // Apps added and removed, stacks and nodes changed, models swapped, one tree with no change.
    for (const name of ['reference-with-apps', 'optimal', 'vps']) {
      const other = await tree(loadFixture('valid', name));
      const otherResources = resourcesOf(other);
      const sides = [
        [reference, referenceResources, other, otherResources],
        [other, otherResources, reference, referenceResources],
      ] as const;
      for (const [a, aResources, b, bResources] of sides) {
        const everyFile = compareResources(aResources, bResources);
        expect(everyFile.changed, name).toBe(true);
        expect(diffTrees(a, b), name).toEqual(everyFile);
      }
    }
    expect(diffTrees(reference, new Map(reference))).toEqual({ apps: [], changed: false });
  });

  it('compares a file that is not valid YAML (edited by hand) as text, and a second file with the same key too', () => {
    const broken = new Map([
      ['k3s/apps/x/s.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: s }\ndata: [\n'],
      ['compose/n/s/compose.yaml', 'services:\n  x: { image: a }\nservices:\n  y: { image: b }\n'],
    ]);
    const resources = resourcesOf(broken);
    expect([...resources.keys()]).toEqual(['file compose/n/s/compose.yaml', 'file k3s/apps/x/s.yaml']);
    expect(resources.get('file k3s/apps/x/s.yaml')?.text).toContain('kind: ConfigMap');
    const fixed = resourcesOf(new Map([['k3s/apps/x/s.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: s }\ndata: { a: b }\n']]));
    expect([...fixed.keys()]).toEqual(['k8s v1/ConfigMap//s']);
    expect(diffTrees(broken, new Map([...broken].map(([path, content]) => [path, `${content}# edited\n`]))).changed).toBe(true);
  });

  it('masks by key, by Secret kind and by value shape, and keeps references visible', () => {
    const resources = resourcesOf(
      new Map([
        ['k3s/apps/x/s.yaml', `apiVersion: v1\nkind: Secret\nmetadata: { name: s }\ndata: { a: c2VjcmV0 }\n`],
        ['compose/n/s/compose.yaml', 'services:\n  x:\n    environment: { PG_PASSWORD: "${PG_PASSWORD:?}", TOKEN: abc, HASH: "$2a$14$abcdefghijklmnopqrstuv" }\n'],
      ]),
    );
    const texts = [...resources.values()].map((r) => r.text).join('\n');
    expect(texts).toContain(`a: "${MASK}"`);
    expect(texts).toContain('PG_PASSWORD: ${PG_PASSWORD:?}');
    expect(texts).toContain(`TOKEN: "${MASK}"`);
    expect(texts).toContain(`HASH: "${MASK}"`);
    expect(compareResources(resources, resources).changed).toBe(false);
  });
});

describe('platform synth --check', () => {
  it('exits 0 on a fresh tree and 1 on a stale one, naming the files', async () => {
    const out = join(scratch, 'check');
    const run = (args: string[]) => platformInProcess(['synth', '--out', out, ...args]);
    expect((await run(['--quiet'])).exitCode).toBe(0);
    const fresh = await run(['--check']);
    expect(fresh.exitCode).toBe(0);
    expect(fresh.stdout).toBe(`platform synth --check: ${out} is up to date with <embedded reference platform>`);
    writeFileSync(join(out, 'k3s/apps/llm/deployment-edge-litellm.yaml'), 'edited by hand\n');
    rmSync(join(out, 'compose/homelab/edge/README.md'));
    writeFileSync(join(out, 'k3s/apps/llm/leftover.yaml'), 'x\n');
    const before = readFileSync(join(out, 'k3s/apps/llm/deployment-edge-litellm.yaml'), 'utf8');
    const stale = await run(['--check']);
    expect(stale.exitCode).toBe(1);
    expect(stale.stdout).toBe(
      [
        `platform synth --check: 3 file(s) in ${out} differ from what <embedded reference platform> renders; run platform synth and commit:`,
        '  missing compose/homelab/edge/README.md',
        '  changed k3s/apps/llm/deployment-edge-litellm.yaml',
        '  extra   k3s/apps/llm/leftover.yaml',
      ].join('\n'),
    );
    // --check writes nothing.
    expect(readFileSync(join(out, 'k3s/apps/llm/deployment-edge-litellm.yaml'), 'utf8')).toBe(before);
  });
});

describe('the GitHub Actions workflow', () => {
  const workflow = readFileSync(join(ROOT, '.github/workflows/platform-diff.yml'), 'utf8');

  it('is a valid workflow (the schema GitHub publishes)', () => {
    expect(validateWorkflow(workflow).errors).toEqual([]);
    expect(validateWorkflow(workflow.replace('runs-on:', 'runs_on:')).errors).not.toEqual([]);
  });

  it('diffs against the base branch in markdown and updates one comment', () => {
    expect(workflow).toContain('npx platform diff --base "origin/${{ github.base_ref }}"');
    expect(workflow).toContain('--format markdown');
    expect(workflow).toContain("const marker = '<!-- platform-diff -->';");
    expect(workflow).toContain('fetch-depth: 0');
  });
});
