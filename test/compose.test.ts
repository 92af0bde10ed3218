import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { buildPlatform } from '../lib/synth.js';
import { configText, inlineConfig, loadFixture, renderTree, type ComposeService, type RenderedTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

const reference = renderTree();
const plain = renderTree(referenceConfig(), 'plain');
const allServices = (tree: RenderedTree) =>
  tree.composeDirs().flatMap((dir) => Object.entries(tree.compose(dir).services).map(([name, s]) => ({ dir, name, service: s })));

describe('Coolify conventions', () => {
  it('never sets container_name (Coolify rewrites it)', () => {
    for (const { service } of allServices(reference)) expect(service).not.toHaveProperty('container_name');
  });

  it('pins every image to a concrete tag', () => {
    for (const { name, service } of allServices(reference)) {
      expect(service.image, name).toMatch(/:[^:]+$/);
      expect(service.image, name).not.toMatch(/:(latest|main|stable)$/);
    }
  });

  it('carries config files inline as Compose configs, every $ escaped', () => {
    const caddy = reference.service('homelab/edge', 'caddy');
    expect(caddy.configs).toEqual([{ source: 'caddy-Caddyfile', target: '/etc/caddy/Caddyfile' }]);
    expect(caddy.volumes?.some((v) => v.target === '/etc/caddy/Caddyfile')).toBe(false);
    const raw = (reference.compose('homelab/edge') as { configs?: Record<string, { content: string }> }).configs?.['caddy-Caddyfile']?.content;
    expect(raw).toContain('admin {$$COMFYUI_BASIC_AUTH_HASH}');
    expect(configText(reference, 'homelab/edge', 'caddy', '/etc/caddy/Caddyfile')).toContain('chat.example.com {');
  });

  it('puts a profiled service in a file of its own, with no profile (Coolify never passes --profile)', () => {
    expect(reference.composeDirs()).toContain('rtx/video-backup');
    expect(Object.keys(reference.compose('rtx/video-backup').services)).toEqual(['cogvideox']);
    expect(reference.service('rtx/video-backup', 'cogvideox')).not.toHaveProperty('profiles');
    expect(Object.keys(reference.compose('rtx/video').services)).not.toContain('cogvideox');
    expect(reference.files.get('rtx/video-backup/README.md')).toContain('Deploy it when you want it, stop it in Coolify');
  });

  it('marks one-shot containers so they do not make the stack unhealthy', () => {
    const init = reference.service('rtx/llm', 'ollama-init');
    expect(init.restart).toBe('no');
    // Coolify leaves `restart: no` containers out of the status (app/Traits/CalculatesExcludedStatus.php
    // lines 138-141); `exclude_from_hc` would make Compose reject the raw file.
    expect(init).not.toHaveProperty('exclude_from_hc');
    expect(init).not.toHaveProperty('healthcheck');
    expect(reference.files.get('rtx/llm/compose.yaml')).toContain('restart: "no"');
  });

  it('gives every long-running service a health check and resource limits', () => {
    for (const { name, service } of allServices(reference)) {
      expect(service.deploy.resources.limits, name).toHaveProperty('memory');
      if (service.restart !== 'no') expect(service, name).toHaveProperty('healthcheck');
    }
  });

  it('orders start-up along connections that need it', () => {
    expect(reference.service('rtx/llm', 'ollama-init').depends_on).toEqual({ ollama: { condition: 'service_healthy' } });
    expect(reference.service('homelab/search', 'searxng')).not.toHaveProperty('depends_on'); // valkey is in another stack
    const optimal = renderTree(loadFixture('valid', 'optimal'));
    expect(optimal.service('homelab/llm', 'litellm')).not.toHaveProperty('depends_on');
  });

  it('references secrets as required variables and never as values', () => {
    const postgres = reference.service('homelab/data', 'postgres');
    expect(postgres.environment).toMatchObject({ POSTGRES_PASSWORD: '${PG_PASSWORD:?}', POSTGRES_USER: '${PG_USER:?}' });
    expect(reference.service('homelab/llm', 'litellm').environment?.LITELLM_MASTER_KEY).toBe('${LITELLM_API_KEY:?}');
  });

  it('lists every variable a compose file needs in .env.example, without values', () => {
    for (const dir of reference.composeDirs()) {
      const compose = reference.files.get(`${dir}/compose.yaml`) ?? '';
      const env = reference.files.get(`${dir}/.env.example`) ?? '';
      const needed = [...compose.matchAll(/\$\{([A-Z0-9_]+):\?\}/g)].map((m) => m[1]);
      const listed = [...env.matchAll(/^([A-Z0-9_]+)=(.*)$/gm)];
      expect(listed.map((m) => m[1]).sort(), dir).toEqual([...new Set(needed)].sort());
      for (const m of listed) expect(m[2], `${dir} ${m[1]}`).toBe('');
    }
  });

  it('uses Coolify magic variables for stack-local secrets, and required variables for shared ones', () => {
    const tree = renderTree(loadFixture('valid', 'rtx3060'));
    const postgres = tree.service('homelab/data', 'postgres');
    expect(postgres.environment?.POSTGRES_PASSWORD).toBe('${SERVICE_PASSWORD_PGPASSWORD}');
    expect(postgres.environment?.POSTGRES_USER).toBe('${SERVICE_USER_PGUSER}');
    // LITELLM_API_KEY is read by litellm (llm) and open-webui (chat): Coolify would generate two values.
    expect(tree.service('homelab/llm', 'litellm').environment?.LITELLM_MASTER_KEY).toBe('${LITELLM_API_KEY:?}');
    expect(tree.service('homelab/chat', 'open-webui').environment?.OPENAI_API_KEY).toBe('${LITELLM_API_KEY:?}');
    // LiteLLM refuses a master key without the sk- prefix, which Coolify's generated values lack.
    expect(tree.files.get('homelab/llm/.env.example')).toContain('LITELLM_API_KEY=\n');
    expect(tree.files.get('homelab/llm/.env.example')).toContain('echo "sk-$(openssl rand -hex 24)"');
    // A bcrypt hash is never generated by Coolify.
    expect(tree.service('homelab/edge', 'caddy').environment?.COMFYUI_BASIC_AUTH_HASH).toBe('${COMFYUI_BASIC_AUTH_HASH:?}');
  });

  it('escapes literal dollars so Compose does not interpolate them', () => {
    const test = reference.service('homelab/data', 'postgres').healthcheck as { test: string[] };
    expect(test.test).toEqual(['CMD', 'sh', '-c', 'pg_isready -U "$$POSTGRES_USER" -d postgres']);
  });
});

describe('plain flavour', () => {
  it('writes config files beside compose.yaml and mounts them by relative path', () => {
    const caddy = plain.service('homelab/edge', 'caddy');
    const caddyfile = caddy.volumes?.find((v) => v.target === '/etc/caddy/Caddyfile');
    expect(caddyfile).toEqual({ type: 'bind', source: './caddy/Caddyfile', target: '/etc/caddy/Caddyfile', read_only: true });
    expect(plain.files.get('homelab/edge/caddy/Caddyfile')).toContain('chat.example.com {');
  });

  it('has no Coolify-only keys', () => {
    for (const dir of plain.composeDirs()) {
      const text = plain.files.get(`${dir}/compose.yaml`) ?? '';
      expect(text, dir).not.toContain('exclude_from_hc');
      expect(text, dir).not.toMatch(/^\s+content:/m);
    }
  });
});

describe('GPU reservations', () => {
  const gpuDevices = (s: ComposeService) => s.deploy.resources.reservations?.devices;

  it('reserves one NVIDIA GPU by count on a single-GPU node', () => {
    expect(gpuDevices(reference.service('rtx/llm', 'ollama'))).toEqual([{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
  });

  it('pins device_ids from the inventory on a multi-GPU node: Ollama 0, ComfyUI 1, Mochi 0+1', () => {
    const tree = renderTree(loadFixture('valid', 'optimal'));
    expect(gpuDevices(tree.service('gpu-a/llm', 'ollama'))).toEqual([{ driver: 'nvidia', device_ids: ['0'], capabilities: ['gpu'] }]);
    expect(gpuDevices(tree.service('gpu-a/image', 'comfyui'))).toEqual([{ driver: 'nvidia', device_ids: ['1'], capabilities: ['gpu'] }]);
    expect(gpuDevices(tree.service('gpu-a/video', 'mochi'))).toEqual([{ driver: 'nvidia', device_ids: ['0', '1'], capabilities: ['gpu'] }]);
    expect(gpuDevices(tree.service('gpu-b/video-backup', 'cogvideox'))).toEqual([{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
  });

  it('honours pinned devices from config', () => {
    const tree = renderTree(
      inlineConfig({
        nodes: {
          homelab: { role: 'server', address: '192.168.1.10' },
          rtx: { role: 'gpu', address: '192.168.1.11', gpus: [{ model: 'A', vramGb: 24 }, { model: 'B', vramGb: 24 }] },
        },
        services: { ollama: { gpuDevices: [1] } },
      }),
    );
    expect(gpuDevices(tree.service('rtx/llm', 'ollama'))?.[0]?.device_ids).toEqual(['1']);
  });

  it('gives no GPU to services that do not ask for one', () => {
    expect(gpuDevices(reference.service('homelab/llm', 'litellm'))).toBeUndefined();
  });
});

describe('networks and exposure', () => {
  it('joins each service to its zone and the zones of what it dials on the same node', () => {
    expect(reference.service('homelab/chat', 'open-webui').networks).toEqual(['zone-edge', 'zone-services']);
    expect(reference.service('homelab/data', 'postgres').networks).toEqual(['zone-services']);
    // ollama-init only asks Ollama to pull; Ollama downloads, so Ollama has the way out.
    expect(reference.service('rtx/llm', 'ollama-init').networks).toEqual(['zone-gpu']);
    expect(reference.service('rtx/llm', 'ollama').networks).toEqual(['uplink', 'zone-gpu']);
  });

  it('declares every joined network as external', () => {
    for (const dir of reference.composeDirs()) {
      const doc = reference.compose(dir);
      const joined = new Set(Object.values(doc.services).flatMap((s) => s.networks ?? []));
      expect(Object.keys(doc.networks).sort(), dir).toEqual([...joined].sort());
      for (const n of Object.values(doc.networks)) expect(n).toEqual({ external: true });
    }
  });

  it('publishes only the edge and cross-node ports, always on the node address', () => {
    const published = allServices(reference).flatMap(({ dir, name, service }) => (service.ports ?? []).map((p) => ({ dir, name, ...p })));
    for (const p of published) expect(p.host_ip, `${p.dir} ${p.name}`).toMatch(/^192\.168\.1\.1[01]$/);
    const homelab = published.filter((p) => p.dir.startsWith('homelab/')).map((p) => `${p.name} ${p.published}/${p.protocol}`);
    // Loki is not published: Alloy on rtx pushes through Caddy's authenticated gateway on 3100.
    expect(homelab.sort()).toEqual(['caddy 3100/tcp', 'caddy 443/tcp', 'caddy 443/udp', 'caddy 80/tcp', 'technitium 53/tcp', 'technitium 53/udp']);
    const rtx = published.filter((p) => p.dir.startsWith('rtx/')).map((p) => `${p.name} ${p.published}`);
    // node-exporter is on the host network: it publishes nothing (its listen address is the node's).
    expect(rtx.sort()).toEqual(['alloy 12345', 'cadvisor 8080', 'comfyui 8188', 'gpu-exporter 9400', 'ollama 11434']);
  });

  it('dials across nodes by the other node address', () => {
    const litellm = reference.service('homelab/llm', 'litellm');
    const config = configText(reference, 'homelab/llm', 'litellm', '/app/config.yaml') as string;
    expect((readYaml(config) as { model_list: { litellm_params: { api_base: string } }[] }).model_list[0]?.litellm_params.api_base).toBe(
      'http://192.168.1.11:11434',
    );
    expect(reference.service('homelab/chat', 'open-webui').environment?.OPENAI_API_BASE_URL).toBe('http://litellm:4000/v1');
  });

  it('binds to Tailscale addresses under tailnet exposure', () => {
    const tree = renderTree(loadFixture('valid', 'tailnet'));
    const caddy = tree.service('homelab/edge', 'caddy');
    expect(new Set(caddy.ports?.map((p) => p.host_ip))).toEqual(new Set(['100.64.0.10']));
    expect(tree.service('rtx/llm', 'ollama').ports?.[0]?.host_ip).toBe('100.64.0.11');
    expect(tree.files.get('homelab/edge/compose.yaml')).toContain('local_certs');
  });

  it('never binds a published port to all interfaces', () => {
    for (const name of ['reference-with-apps', 'rtx3060', 'tailnet', 'optimal', 'gpu-over-lan']) {
      const tree = renderTree(loadFixture('valid', name));
      for (const { service } of allServices(tree)) {
        for (const p of service.ports ?? []) expect(p.host_ip, name).not.toMatch(/^(0\.0\.0\.0|::)?$/);
      }
    }
  });

  it('writes networks.sh: bridge per zone, --internal when isolated, macvlan on <interface>.<vlan>', () => {
    const script = reference.files.get('homelab/networks.sh') ?? '';
    expect(script).toContain('ensure_network zone-services --driver bridge --subnet 10.0.40.0/24 --internal');
    expect(script).toContain('ensure_network zone-edge --driver bridge --subnet 10.0.20.0/24\n');
    expect(script).toContain('ensure_network uplink --driver bridge');
    expect(script).not.toContain('zone-gpu'); // nothing on homelab lives in or dials the gpu zone
    const lan = renderTree(loadFixture('valid', 'gpu-over-lan'));
    expect(lan.files.get('homelab/networks.sh')).toContain(
      'ensure_network zone-services --driver macvlan --subnet 192.168.40.0/24 --gateway 192.168.40.1 --ip-range 192.168.40.128/25 -o parent=enp3s0.40',
    );
  });

  it('renders nothing for an external node and dials its services at its LAN address', () => {
    const tree = renderTree(loadFixture('valid', 'gpu-over-lan'));
    expect(tree.composeDirs().every((d) => d.startsWith('homelab/'))).toBe(true);
    expect(configText(tree, 'homelab/llm', 'litellm', '/app/config.yaml')).toContain('api_base: http://192.168.1.99:11434');
  });
});

describe('user apps', () => {
  const tree = renderTree(loadFixture('valid', 'reference-with-apps'));

  it('hands each app the address of what it connects to', () => {
    const api = tree.service('homelab/apps', 'api');
    expect(api.environment).toMatchObject({ LITELLM_URL: 'http://litellm:4000', MOCHI_URL: 'http://192.168.1.11:8000', VALKEY_HOST: 'valkey', VALKEY_PORT: '6379' });
    // Valkey is not HTTP: its URL is the Redis one, with the password (test/valkey.test.ts runs it).
    expect(api.environment?.VALKEY_URL).toBe('redis://default:${VALKEY_PASSWORD:?}@valkey:6379/0');
  });

  it('routes the API with CORS for the SPA, and serves the SPA from its folder', () => {
    const caddyfile = configText(tree, 'homelab/edge', 'caddy', '/etc/caddy/Caddyfile') as string;
    expect(caddyfile).toContain('header @cors_0 Access-Control-Allow-Origin "https://app.example.com"');
    expect(caddyfile).toMatch(/app\.example\.com \{[^}]*try_files \{path\} \/index\.html/);
    const mount = tree.service('homelab/edge', 'caddy').volumes?.find((v) => v.target === '/srv/app');
    expect(mount).toEqual({ type: 'bind', source: '/srv/apps/app/dist', target: '/srv/app', read_only: true });
  });

  it('creates a database and login role for each app that connects to postgres, and hands it those', () => {
    const sql = configText(tree, 'homelab/data', 'postgres-provision', '/provision/provision.sql');
    expect(sql).toContain(`CREATE DATABASE "api" OWNER "api"`);
    expect(tree.service('homelab/apps', 'api').environment).toMatchObject({
      POSTGRES_DB: 'api',
      POSTGRES_USER: 'api',
      POSTGRES_PASSWORD: '${PG_API_PASSWORD:?}',
      PGHOST: 'postgres',
      PGPORT: '5432',
      PGDATABASE: 'api',
      PGUSER: 'api',
      PGPASSWORD: '${PG_API_PASSWORD:?}',
    });
  });
});

describe('storage', () => {
  it('uses folders under the storage root in bind mode', () => {
    const tree = renderTree(loadFixture('valid', 'rtx3060'));
    const ollama = tree.service('homelab/llm', 'ollama');
    expect(ollama.volumes?.[0]).toEqual({ type: 'bind', source: '/cold-storage/llm/ollama-models', target: '/root/.ollama', bind: { create_host_path: true } });
    expect(tree.compose('homelab/llm')).not.toHaveProperty('volumes');
  });

  it('shares the ComfyUI models volume between the downloader and ComfyUI', () => {
    const image = reference.compose('rtx/image');
    expect(image.services['comfyui-models']?.volumes?.[0]?.source).toBe('comfyui-models');
    expect(image.services.comfyui?.volumes?.[0]?.source).toBe('comfyui-models');
  });
});

describe('deploy order', () => {
  it('deploys a stack after the stacks it needs, across nodes', () => {
    const readme = reference.files.get('README.md') ?? '';
    const order = [...readme.matchAll(/^\d+\. `([^`]+)`/gm)].map((m) => m[1]);
    expect(order.indexOf('rtx/llm')).toBeLessThan(order.indexOf('homelab/llm'));
    expect(order.indexOf('homelab/llm')).toBeLessThan(order.indexOf('homelab/chat'));
    expect(order.indexOf('homelab/monitoring')).toBeLessThan(order.indexOf('rtx/monitoring'));
  });

  it('keeps the platform construct tree free of cycles', () => {
    expect(() => buildPlatform(referenceConfig()).stackOrder()).not.toThrow();
  });
});

describe('publishing from a macvlan zone', () => {
  it('adds the uplink bridge, because Docker cannot publish a port from a macvlan network', () => {
    const tree = renderTree(
      inlineConfig({
        zones: {
          dmz: { vlan: 10, subnet: '10.0.10.0/24', driver: 'macvlan' },
          edge: { vlan: 20, subnet: '10.0.20.0/24' },
          gpu: { vlan: 30, subnet: '10.0.30.0/24', isolated: true },
          services: { vlan: 40, subnet: '10.0.40.0/24', isolated: true },
          monitoring: { vlan: 50, subnet: '10.0.50.0/24', isolated: true },
        },
      }),
    );
    const technitium = tree.service('homelab/dns', 'technitium');
    expect(technitium.networks).toEqual(['uplink', 'zone-dmz']);
    expect(technitium.ports?.map((p) => `${p.host_ip}:${p.published}/${p.protocol}`)).toEqual(['192.168.1.10:53/tcp', '192.168.1.10:53/udp']);
    expect(tree.service('homelab/dns', 'ddclient').networks).toEqual(['zone-dmz']);
  });
});

describe('macvlan zones on several nodes', () => {
  it('gives each node its own address range on the VLAN, so Docker on two hosts never hands out the same address', () => {
    const tree = renderTree(
      inlineConfig({
        zones: {
          dmz: { vlan: 10, subnet: '10.0.10.0/24' },
          edge: { vlan: 20, subnet: '10.0.20.0/24' },
          gpu: { vlan: 30, subnet: '10.0.30.0/24', isolated: true, driver: 'macvlan', gateway: '10.0.30.254' },
          services: { vlan: 40, subnet: '10.0.40.0/24', isolated: true },
          monitoring: { vlan: 50, subnet: '10.0.50.0/24', isolated: true },
        },
        services: { litellm: { node: 'rtx', zone: 'gpu' } },
      }),
    );
    expect(tree.files.get('rtx/networks.sh')).toContain(
      'ensure_network zone-gpu --driver macvlan --subnet 10.0.30.0/24 --gateway 10.0.30.254 --ip-range 10.0.30.128/26 -o parent=eth0.30 --internal',
    );
  });
});

describe('one-shot scripts', () => {
  it.each(['ollama-init', 'comfyui-models'])('%s is valid sh, and comfyui-models skips what it already has', async (name) => {
    const { execFileSync } = await import('node:child_process');
    const platform = buildPlatform(referenceConfig());
    const script = platform.service(name)?.command?.[0] ?? '';
    expect(() => execFileSync('sh', ['-n', '-c', script])).not.toThrow();
    if (name === 'comfyui-models') {
      expect(script).toContain('if [ -f /models/vae/sdxl_vae.safetensors ]; then echo "have sdxl_vae.safetensors"; else mkdir -p /models/vae && wget -c -O /models/vae/sdxl_vae.safetensors.part ');
      expect(script).not.toContain('apk add');
      expect(platform.service(name)?.runAsUid).toBe(platform.service('comfyui')?.runAsUid);
    }
  });
});
