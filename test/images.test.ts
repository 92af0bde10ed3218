import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { buildContextFiles, buildContextSha256 } from '../lib/image-build.js';
import { evidenceTag, IMAGE_FACTS, imageFacts, PGVECTOR_IMAGE } from '../lib/images.js';
import type { ServiceDescriptor } from '../lib/services/descriptor.js';
import { pinnedImages, SERVICE_DESCRIPTORS } from '../lib/services/registry.js';

/** Each service's pinned image (from its descriptor) and the builds the platform ships. */
const PINNED_IMAGES = pinnedImages();
const IMAGE_BUILDS = Object.fromEntries((SERVICE_DESCRIPTORS as readonly ServiceDescriptor[]).flatMap((d) => (d.build ? [[d.name, d.build]] : [])));
import { inImageCheck } from '../lib/model/health.js';
import { HOST_NETWORK_ADDRESS_ENV, type Service } from '../lib/model/service.js';
import { buildPlatform } from '../lib/synth.js';
import { COMFYUI_MODEL_FILES } from '../lib/services/comfyui-models.js';
import { COMFYUI_BASE_DIRECTORY, COMFYUI_PORT } from '../lib/services/comfyui.js';
import {
  DDCLIENT_CACHE,
  DDCLIENT_CONF,
  DDCLIENT_RENDERED_CONF,
  DDCLIENT_S6_SERVICE,
  ddclientCopyScript,
  ddclientHealthCommand,
} from '../lib/services/ddclient.js';
import { podSpec } from './support/k3s.js';
import { fixtureK3sTree } from './support/k3s-fixtures.js';
import { configText, inlineConfig, loadFixture, renderTree } from './support/render.js';
import { toolAvailable } from './support/tools.js';

const platform = buildPlatform(referenceConfig());
const compose = renderTree();
const plain = renderTree(referenceConfig(), 'plain');
const k3s = await fixtureK3sTree('reference');
const service = (name: string) => platform.service(name) as Service;
const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);

describe('the image table and its evidence', () => {
  const pinned = [...new Set([...Object.values(PINNED_IMAGES), PGVECTOR_IMAGE])].sort();

  it('records facts for every pinned image, and for nothing else', () => {
    expect(Object.keys(IMAGE_FACTS).sort()).toEqual(pinned);
  });

  it.each(pinned)('%s: the tag is the one its evidence names', (image) => {
    const { evidence } = IMAGE_FACTS[image]!;
    expect(tagOf(image)).toBe(evidenceTag(evidence));
    // The release notes and the publishing file are those of that very release or commit.
    expect(evidence.releaseNotes).toContain(evidence.release);
    if (evidence.publishedBy.startsWith('https://')) {
      expect(evidence.publishedBy).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[^/]+\//);
      const ref = evidence.publishedBy.split('/blob/')[1]!.split('/')[0]!;
      // Either the release's own tree, or the official-images/registry definition on its default branch.
      expect([evidence.release, 'master', 'main', 'mainline']).toContain(ref);
    } else {
      expect(readFileSync(join(import.meta.dirname, '..', evidence.publishedBy), 'utf8')).toContain(evidence.release);
    }
  });

  it('an evidence record that names another release does not match the tag (the check can fail)', () => {
    const { evidence } = IMAGE_FACTS['prom/node-exporter:v1.9.1']!;
    expect(evidenceTag({ ...evidence, release: 'v1.9.0' })).not.toBe(tagOf('prom/node-exporter:v1.9.1'));
    // ComfyUI's old pin: a tag of ai-dock's build matrix that never existed has no evidence at all.
    expect(imageFacts('ghcr.io/ai-dock/comfyui:pytorch-2.3.0-py3.11-cuda-12.1.0-runtime-22.04')).toBeUndefined();
  });

  it('cites the upstream lines the pins rest on', () => {
    // linuxserver/docker-ddclient Jenkinsfile line 220: META_TAG = EXT_RELEASE_CLEAN + '-ls' + LS_TAG_NUMBER.
    expect(IMAGE_FACTS[PINNED_IMAGES.ddclient]!.evidence.publishedBy).toMatch(/Jenkinsfile#L220$/);
    // searxng/searxng searx/version.py lines 69-75: `%Y.%m.%d` of the commit date, leading zeros dropped, `-`, `%h`.
    const searxng = IMAGE_FACTS[PINNED_IMAGES.searxng]!.evidence;
    expect(searxng.release.startsWith('57ef342')).toBe(true);
    expect(searxng.publishedBy).toMatch(/lib_sxng_container\.sh#L264$/);
    // prometheus/node_exporter Makefile.common line 239: docker manifest push of the release tag under prom/.
    expect(IMAGE_FACTS[PINNED_IMAGES['node-exporter']]!.evidence.publishedBy).toMatch(/Makefile\.common#L239$/);
  });

  describe.each(Object.entries(IMAGE_BUILDS))('the platform build of %s', (name, build) => {
    const files = buildContextFiles(build!);
    const dockerfile = files.find((f) => f.name === 'Dockerfile')!.content;
    const image = PINNED_IMAGES[name as keyof typeof PINNED_IMAGES];

    it('is named localhost/... so it is never pulled from a registry', () => {
      expect(image.startsWith('localhost/platform/')).toBe(true);
    });

    it('pins the upstream code in the Dockerfile, the tag and the evidence', () => {
      expect(dockerfile).toContain(`ARG ${build!.upstream.arg}=${build!.upstream.ref}\n`);
      expect(dockerfile).toContain(build!.upstream.repo);
      expect(IMAGE_FACTS[image]!.evidence.release).toBe(build!.upstream.ref);
      expect(build!.upstream.ref).toMatch(/^(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
    });

    it('runs as the uid the facts record', () => {
      const { uid, gid } = IMAGE_FACTS[image]!.user;
      expect(dockerfile).toContain(`USER ${uid}:${gid}\n`);
    });

    it('has the context hash the table records: changing the build means a new tag', () => {
      expect(buildContextSha256(files), `recompute build.contextSha256 in lib/services/${name}.ts and bump the tag revision`).toBe(build!.contextSha256);
    });
  });
});

describe('every rendered service agrees with the facts of its image', () => {
  // The reference platform with the catalog services (n8n, langfuse, qdrant) turned on.
  const catalog = buildPlatform(loadFixture('valid', 'catalog'));
  const withFacts = catalog.services.filter((s) => imageFacts(s.image));

  it('covers every service of the reference platform and of the catalog', () => {
    expect(withFacts.map((s) => s.name).sort()).toEqual(catalog.services.map((s) => s.name).sort());
    expect(withFacts.map((s) => s.name)).toEqual(expect.arrayContaining([...platform.services.map((s) => s.name), 'n8n', 'langfuse', 'qdrant']));
  });

  it.each(withFacts.map((s) => [s.name, s] as const))('%s', (_, s) => {
    const facts = imageFacts(s.image)!;
    for (const v of s.volumes) {
      if ('name' in v) expect(facts.dataPaths, `${s.name} mounts ${v.name} at ${v.mountPath}`).toContain(v.mountPath);
    }
    for (const p of s.ports) expect(facts.listenPorts, `${s.name} port ${p.port}`).toContain(p.port);
    if (s.healthCheck) expect(facts.healthTools, `${s.name} health check`).toContain(inImageCheck(s.healthCheck)[0]);
    const explicit = s.security.user !== undefined ? Number(s.security.user.split(':')[0]) : undefined;
    if (facts.start === 'root-then-drops') {
      // The entrypoint drops to the image's user itself; a one-shot that skips the entrypoint
      // (postgres-provision runs psql) may run as that user directly, never as another.
      if (explicit !== undefined) expect(explicit, `${s.name} runs as ${facts.user.name}`).toBe(facts.user.uid);
      else expect(s.security.nonRootUid, `${s.name} starts as root and drops to ${facts.user.name} itself`).toBeUndefined();
    } else if (explicit === undefined) {
      // No user set: the container runs as the image's own user, and the model must say which.
      expect(s.security.nonRootUid ?? 0, `${s.name} runs as ${facts.user.name}`).toBe(facts.user.uid);
    }
  });
});

describe('ComfyUI: the models comfyui-models downloads are the ones ComfyUI reads, and its workspace persists', () => {
  const comfyui = service('comfyui');
  const models = service('comfyui-models');
  const flag = (name: string) => comfyui.command?.[comfyui.command.indexOf(name) + 1];

  it('listens on its port and keeps every folder under --base-directory', () => {
    expect(flag('--port')).toBe(String(COMFYUI_PORT));
    expect(flag('--listen')).toBe('0.0.0.0');
    expect(flag('--base-directory')).toBe(COMFYUI_BASE_DIRECTORY);
    const mounts = comfyui.volumes.map((v) => v.mountPath).sort();
    expect(mounts).toEqual(['models', 'input', 'output', 'user'].map((d) => `${COMFYUI_BASE_DIRECTORY}/${d}`).sort());
  });

  it('reads the models volume the downloader fills, in the folders ComfyUI looks in', () => {
    const downloadVolume = models.volumes.find((v) => v.mountPath === '/models');
    const readVolume = comfyui.volumes.find((v) => v.mountPath === `${flag('--base-directory')}/models`);
    expect(downloadVolume && 'name' in downloadVolume && downloadVolume.name).toBe(readVolume && 'name' in readVolume && readVolume.name);
    // ComfyUI's folder_paths names (checkpoints, vae, unet, clip): one folder per model kind under models/.
    const folders = new Set(Object.values(COMFYUI_MODEL_FILES).flatMap((files) => files.map((f) => f.folder)));
    expect([...folders].sort()).toEqual(['checkpoints', 'clip', 'unet', 'vae']);
  });

  it('is configured by flags, not by variables the old image never read', () => {
    const rendered = compose.service('rtx/image', 'comfyui');
    expect(rendered.environment ?? {}).not.toHaveProperty('CLI_ARGS');
    expect(rendered.environment ?? {}).not.toHaveProperty('WEB_ENABLE_AUTH');
    expect(rendered.command).toEqual(comfyui.command);
    expect(rendered.healthcheck).toMatchObject({ test: ['CMD', 'python3', '-c', expect.stringContaining(`127.0.0.1:${COMFYUI_PORT}/system_stats`)] });
  });

  it('the Dockerfile creates those folders for the uid it runs as, and runs main.py', () => {
    const dockerfile = plain.files.get('rtx/image/comfyui/build/Dockerfile')!;
    for (const d of ['models', 'input', 'output', 'user']) expect(dockerfile).toContain(`${COMFYUI_BASE_DIRECTORY}/${d}`);
    expect(dockerfile).toContain('chown -R 1000:1000 /workspace');
    expect(dockerfile).toContain('ENTRYPOINT ["python", "main.py"]');
  });
});

describe('Mochi and CogVideoX: built from the shipped Dockerfiles', () => {
  it.each([
    ['rtx/video', 'mochi'],
    ['rtx/video', 'cogvideox'],
    ['rtx/image', 'comfyui'],
  ])('%s/%s: Compose builds it (both flavours), k3s names the same image and ships the context', (dir, name) => {
    // The Coolify flavour puts CogVideoX (on demand) in a file of its own: Coolify never passes --profile.
    for (const [tree, at] of [
      [compose, name === 'cogvideox' ? 'rtx/video-backup' : dir],
      [plain, dir],
    ] as const) {
      const dir = at;
      const rendered = tree.service(dir, name);
      expect(rendered.image).toBe(PINNED_IMAGES[name as keyof typeof PINNED_IMAGES]);
      expect(rendered.build).toEqual({ context: `./${name}/build` });
      expect(rendered.pull_policy).toBe('build');
      for (const f of service(name).build!.files) expect(tree.files.get(`${dir}/${name}/build/${f.name}`)).toBe(f.content);
    }
    const workload = k3s.objects.find((o) => ['StatefulSet', 'Deployment'].includes(o.kind) && o.metadata.name === name)!;
    expect(podSpec(workload).containers[0].image).toBe(PINNED_IMAGES[name as keyof typeof PINNED_IMAGES]);
    expect(k3s.files.get(`images/${name}/Dockerfile`)).toBe(service(name).build!.files.find((f) => f.name === 'Dockerfile')!.content);
    expect(k3s.files.get('README.md')).toContain(`docker build -t ${PINNED_IMAGES[name as keyof typeof PINNED_IMAGES]} images/${name}`);
  });

  it('an image from `images:` is pulled, not built', async () => {
    const tree = renderTree(inlineConfig({ images: { mochi: 'ghcr.io/you/mochi:1.2.3' } }));
    const mochi = tree.service('rtx/video', 'mochi');
    expect(mochi.image).toBe('ghcr.io/you/mochi:1.2.3');
    expect(mochi).not.toHaveProperty('build');
    expect(mochi).not.toHaveProperty('pull_policy');
    expect([...tree.files.keys()].filter((k) => k.startsWith('rtx/video/mochi/build/'))).toEqual([]);
  });

  it.each(['mochi', 'cogvideox'])('%s: the stack probes the server\'s /health on its port', (name) => {
    const s = service(name);
    expect(s.healthCheck?.http).toEqual({ port: 8000, path: '/health' });
    expect(s.env.PORT).toBe('8000');
    const server = s.build!.files.find((f) => f.name === 'server.py')!.content;
    expect(server).toContain('if path == "/health":');
    expect(server).toContain('PORT = int(os.environ.get("PORT", "8000"))');
    // Our own server around the upstream pipeline: backend.py imports the upstream package.
    const backend = s.build!.files.find((f) => f.name === 'backend.py')!.content;
    expect(backend).toMatch(name === 'mochi' ? /from genmo\.mochi_preview\.pipelines import/ : /from diffusers import CogVideoXDPMScheduler, CogVideoXPipeline/);
  });
});

describe('the video server (images/video-server/server.py) with a stand-in model', () => {
  const work = mkdtempSync(join(tmpdir(), 'video-server-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const havePython = toolAvailable('python3');

  it.runIf(havePython)('is unhealthy while loading, healthy when loaded, runs a job to an MP4, and rejects bad requests', async () => {
    const server = service('mochi').build!.files.find((f) => f.name === 'server.py')!.content;
    writeFileSync(join(work, 'server.py'), server);
    // A stand-in backend with the interface server.py documents; loading waits for a file.
    writeFileSync(
      join(work, 'backend.py'),
      [
        'import os, time',
        'MODEL_NAME = "stand-in"',
        'PARAMETERS = {"num_frames": (int, 7, 7, 13), "seed": (int, None, 0, 10)}',
        'def check(params):',
        '    return None if (params["num_frames"] - 1) % 6 == 0 else "num_frames: must be 6k+1"',
        'def load(model_dir):',
        '    while not os.path.exists(os.path.join(model_dir, "go")):',
        '        time.sleep(0.05)',
        '    if os.path.exists(os.path.join(model_dir, "broken")):',
        '        raise RuntimeError("weights are corrupt")',
        '    return "pipeline"',
        'def generate(pipeline, prompt, params, output_path):',
        '    with open(output_path, "wb") as f:',
        '        f.write(("%s|%s|%s" % (pipeline, prompt, params["num_frames"])).encode())',
        '',
      ].join('\n'),
    );
    const run = (models: string, port: number) => {
      return spawn('python3', ['server.py'], {
        cwd: work,
        env: { ...process.env, MODEL_DIR: models, OUTPUT_DIR: join(work, `out-${port}`), HOST: '127.0.0.1', PORT: String(port) },
        stdio: 'ignore',
      });
    };
    const base = (port: number) => `http://127.0.0.1:${port}`;
    const waitFor = async (port: number, path: string, ok: (r: Response) => boolean | Promise<boolean>) => {
      for (let i = 0; i < 200; i++) {
        try {
          const r = await fetch(base(port) + path);
          if (await ok(r)) return r;
        } catch {
          /* not listening yet */
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`timed out waiting for ${path}`);
    };

    const models = join(work, 'models');
    execFileSync('mkdir', ['-p', models]);
    const port = 18000 + Math.floor(Math.random() * 2000);
    const proc = run(models, port);
    try {
      const loading = await waitFor(port, '/health', () => true);
      expect(loading.status).toBe(503);
      expect(await loading.json()).toEqual({ model: 'stand-in', status: 'loading' });
      const early = await fetch(`${base(port)}/v1/videos`, { method: 'POST', body: JSON.stringify({ prompt: 'a cat' }) });
      expect(early.status).toBe(503);

      writeFileSync(join(models, 'go'), '');
      await waitFor(port, '/health', (r) => r.status === 200);

      const post = (body: unknown) => fetch(`${base(port)}/v1/videos`, { method: 'POST', body: JSON.stringify(body) });
      expect((await post({})).status).toBe(400);
      expect(await (await post({ prompt: 'x', num_frames: 99 })).json()).toEqual({ error: 'num_frames: got 99; allowed 7 to 13' });
      expect(await (await post({ prompt: 'x', num_frames: 8 })).json()).toEqual({ error: 'num_frames: must be 6k+1' });
      expect(await (await post({ prompt: 'x', colour: 'red' })).json()).toEqual({ error: 'unknown field(s) colour; allowed: prompt, num_frames, seed' });

      const accepted = await post({ prompt: 'a cat', num_frames: 13 });
      expect(accepted.status).toBe(202);
      const { id } = (await accepted.json()) as { id: string };
      await waitFor(port, `/v1/videos/${id}`, async (r) => ((await r.json()) as { status: string }).status === 'done');
      const video = await fetch(`${base(port)}/v1/videos/${id}/content`);
      expect(video.headers.get('content-type')).toBe('video/mp4');
      expect(await video.text()).toBe('pipeline|a cat|13');
      expect((await fetch(`${base(port)}/v1/videos/${'0'.repeat(32)}`)).status).toBe(404);
    } finally {
      proc.kill();
    }

    // Loading fails: the health check keeps failing and says why.
    writeFileSync(join(models, 'broken'), '');
    const port2 = port + 1;
    const proc2 = run(models, port2);
    try {
      const failed = await waitFor(port2, '/health', async (r) => r.status === 503 && ((await r.clone().json()) as { status: string }).status === 'failed');
      expect(await failed.json()).toEqual({ model: 'stand-in', status: 'failed', error: 'RuntimeError: weights are corrupt' });
    } finally {
      proc2.kill();
    }
  }, 30_000);
});

describe('ddclient: a health check that can fail, and a config the image cannot chown on the host', () => {
  // The plain flavour binds the rendered file (the Coolify flavour delivers it as a Compose config).
  const rendered = plain.service('homelab/dns', 'ddclient');
  const volumes = rendered.volumes as { source: string; target: string; read_only?: boolean; type: string }[];

  it('mounts the rendered file read-only outside /config, and copies it in at start', () => {
    // linuxserver/docker-ddclient init-ddclient-config/run lines 14-27 (4.0.0-ls228): lsiown -R abc:abc /config; chmod 600 /config/*.
    const conf = volumes.find((v) => v.source === './ddclient/ddclient.conf');
    expect(conf).toMatchObject({ target: DDCLIENT_RENDERED_CONF, read_only: true });
    expect(conf!.target.startsWith('/config/')).toBe(false);
    const script = volumes.find((v) => v.target.startsWith('/custom-cont-init.d/'));
    expect(script).toMatchObject({ read_only: true });
    expect(ddclientCopyScript()).toContain(`install -o abc -g abc -m 600 ${DDCLIENT_RENDERED_CONF} ${DDCLIENT_CONF}`);
    // Every bind of a rendered file is read-only: nothing the image does reaches the host copy.
    for (const v of volumes.filter((v) => v.type === 'bind')) expect(v.read_only, v.target).toBe(true);
  });

  it('the copy script is valid sh', () => {
    execFileSync('sh', ['-n', '-c', ddclientCopyScript()]);
  });

  it('checks the process and the last update, no longer `pgrep -f ddclient`', () => {
    expect(JSON.stringify(rendered.healthcheck)).not.toContain('pgrep');
    expect(service('ddclient').healthCheck?.exec).toEqual(ddclientHealthCommand());
  });

  // Run the health command against a stand-in s6-svstat and cache, at temporary paths.
  const work = mkdtempSync(join(tmpdir(), 'ddclient-health-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const health = (up: boolean, cacheLines: string[] | undefined): number => {
    const bin = join(work, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 's6-svstat'), `#!/bin/sh\n[ "$1 $2 $3" = "-o up ${join(work, 'svc')}" ] || exit 111\necho ${up}\n`);
    chmodSync(join(bin, 's6-svstat'), 0o755);
    const cache = join(work, 'ddclient.cache');
    rmSync(cache, { force: true });
    if (cacheLines) writeFileSync(cache, ['## ddclien-4.0.0', '## last updated at now (1)', ...cacheLines, ''].join('\n'));
    const [sh, flag, script] = ddclientHealthCommand();
    const local = script!.replace(DDCLIENT_S6_SERVICE, join(work, 'svc')).replaceAll(DDCLIENT_CACHE, cache);
    try {
      execFileSync(sh!, [flag!, local], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'ignore' });
      return 0;
    } catch (e) {
      return (e as { status: number }).status;
    }
  };
  const good = (host: string) => `atime=1,ipv4=203.0.113.7,mtime=1,status-ipv4=good ${host}`;

  it('passes once every host is set and ddclient is up', () => {
    expect(health(true, [good('ns1.example.com'), good('ns2.example.com')])).toBe(0);
  });
  it('fails when an update has not succeeded (no TSIG key, refused update): the attempt dropped its status', () => {
    expect(health(true, [good('ns1.example.com'), 'atime=2,ipv4=203.0.113.7,mtime=1 ns2.example.com'])).not.toBe(0);
    expect(health(true, [])).not.toBe(0);
    expect(health(true, undefined)).not.toBe(0);
  });
  it('fails when the ddclient process is down', () => {
    expect(health(false, [good('ns1.example.com'), good('ns2.example.com')])).not.toBe(0);
  });
});

describe('node-exporter: host network and PID, the host root with rslave', () => {
  it('Compose: network_mode host, pid host, / at /host read-only with rslave, --path.rootfs=/host', () => {
    const rendered = compose.service('rtx/monitoring', 'node-exporter');
    expect(rendered.network_mode).toBe('host');
    expect(rendered).not.toHaveProperty('networks');
    expect(rendered).not.toHaveProperty('ports');
    expect(rendered.pid).toBe('host');
    expect(rendered.volumes).toContainEqual({ type: 'bind', source: '/', target: '/host', read_only: true, bind: { propagation: 'rslave' } });
    expect(rendered.environment?.[HOST_NETWORK_ADDRESS_ENV]).toBe('192.168.1.11');
    expect((rendered.command as string[])[0]).toContain('--path.rootfs=/host');
  });

  it('listens on its node address only: the shell expands NODE_ADDRESS into --web.listen-address', () => {
    const command = service('node-exporter').command![0]!.replace('exec /bin/node_exporter', 'echo');
    const out = execFileSync('sh', ['-c', command], { env: { ...process.env, [HOST_NETWORK_ADDRESS_ENV]: '192.168.1.11' } }).toString();
    expect(out.trim()).toBe('--path.rootfs=/host --web.listen-address=192.168.1.11:9100 --collector.textfile.directory=/host/var/lib/platform/metrics');
  });

  it('Prometheus scrapes each node at its address', () => {
        const config = configText(compose, 'homelab/monitoring', 'prometheus', '/etc/prometheus/prometheus.yml') ?? '';
    expect(config).toContain('192.168.1.10:9100');
    expect(config).toContain('192.168.1.11:9100');
    expect(config).not.toContain('node-exporter:9100');
  });

  it('k3s: hostNetwork, hostPID, HostToContainer propagation, listen address from the host IP', () => {
    const spec = podSpec(k3s.get('DaemonSet', 'monitoring', 'node-exporter'));
    expect(spec.hostNetwork).toBe(true);
    expect(spec.hostPID).toBe(true);
    expect(spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    const container = spec.containers[0];
    expect(container.volumeMounts).toContainEqual({ name: 'host-0', mountPath: '/host', readOnly: true, mountPropagation: 'HostToContainer' });
    expect(container.env).toContainEqual({ name: HOST_NETWORK_ADDRESS_ENV, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
  });
});

describe('SearxNG: what the pinned image entrypoint needs', () => {
  it('runs as its searxng account with every capability dropped and none added', () => {
    // searxng/searxng@57ef342 container/entrypoint.sh line 55 chowns only as root; line 130 execs granian
    // without switching users; container/base.yml lines 19-26: searxng is uid/gid 977 and owns its folders.
    const rendered = compose.service('homelab/search', 'searxng');
    expect(rendered.user).toBe('977:977');
    expect(rendered.cap_drop).toEqual(['ALL']);
    expect(rendered).not.toHaveProperty('cap_add');
    const spec = podSpec(k3s.get('Deployment', 'services', 'searxng'));
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 977, runAsGroup: 977, fsGroup: 977 });
    expect(spec.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });
});

describe('image pins in the service descriptors', () => {
  it.each((SERVICE_DESCRIPTORS as readonly ServiceDescriptor[]).map((d) => [d.name, d.image] as const))(
    '%s: its file holds the pin as one literal line a Renovate regex manager can match',
    (name, image) => {
      const file = readFileSync(new URL(`../lib/services/${name}.ts`, import.meta.url), 'utf8');
      const pins = [...file.matchAll(/^\s*image: '([^']+)',$/gm)].map((m) => m[1]);
      expect(pins).toEqual([image]);
    },
  );
});
