import { UsageError } from '../config/errors.js';
import { GPU_PRESENT_LABEL, GPU_RESOURCE } from '../k3s/names.js';
import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import type { CommandResult, Host } from './host.js';

/*
 * `platform doctor`: read-only pre-flight checks of one node of the config, before deploying to it.
 * Every check runs ordinary read-only commands (docker version/info, nvidia-smi, df, ss,
 * timedatectl, ip, getent) on the node, here or over ssh, and compares what they print with what
 * the platform will put there. A program that is missing is reported, never a crash.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id, e.g. `docker`, `nvidia-runtime`. */
  readonly id: string;
  readonly status: CheckStatus;
  /** What was found, with the numbers. */
  readonly message: string;
  /** How to put it right (warn and fail). */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly node: string;
  readonly host: string;
  readonly target: DoctorTarget;
  readonly checks: readonly CheckResult[];
}

/** Docker Engine that runs Compose v2 as the `docker compose` plugin. */
export const MIN_DOCKER = '20.10.0';
/** Compose with top-level `configs` `content:` (the Coolify flavour) and `host_ip` on ports. */
export const MIN_COMPOSE = '2.23.1';
const GB = 1024 ** 3;

/** `27.3.1`, `v2.29.7`, `20.10.24+dfsg1` -> [27, 3, 1]. */
export function parseVersion(text: string): number[] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

function atLeast(version: number[], minimum: string): boolean {
  const min = parseVersion(minimum) as number[];
  for (let i = 0; i < 3; i++) {
    if ((version[i] ?? 0) !== (min[i] ?? 0)) return (version[i] ?? 0) > (min[i] ?? 0);
  }
  return true;
}

const firstLine = (r: CommandResult) => (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '';

function docker(host: Host): CheckResult {
  const r = host.run(['docker', 'version', '--format', '{{.Server.Version}}']);
  const fix = `install Docker Engine ${MIN_DOCKER} or newer (https://docs.docker.com/engine/install/)`;
  if (r.missing) return { id: 'docker', status: 'fail', message: 'docker is not installed', fix };
  if (r.code !== 0) {
    return { id: 'docker', status: 'fail', message: `docker does not answer: ${firstLine(r)}`, fix: 'start the daemon (systemctl start docker) and run as root or a member of the docker group' };
  }
  const version = parseVersion(r.stdout);
  if (!version) return { id: 'docker', status: 'fail', message: `cannot read the Docker Engine version from "${r.stdout.trim()}"`, fix };
  if (!atLeast(version, MIN_DOCKER)) return { id: 'docker', status: 'fail', message: `Docker Engine ${version.join('.')} is older than ${MIN_DOCKER}`, fix };
  return { id: 'docker', status: 'ok', message: `Docker Engine ${version.join('.')} (${MIN_DOCKER} or newer)` };
}

function compose(host: Host): CheckResult {
  const r = host.run(['docker', 'compose', 'version', '--short']);
  const fix = `install the Docker Compose plugin ${MIN_COMPOSE} or newer (apt-get install docker-compose-plugin); Debian's docker-compose 1.x cannot read the files`;
  if (r.missing) return { id: 'compose', status: 'fail', message: 'docker is not installed, so neither is Compose', fix };
  const version = r.code === 0 ? parseVersion(r.stdout) : undefined;
  if (!version) return { id: 'compose', status: 'fail', message: `docker compose is not available: ${firstLine(r) || 'no version'}`, fix };
  if (!atLeast(version, MIN_COMPOSE)) return { id: 'compose', status: 'fail', message: `Docker Compose ${version.join('.')} is older than ${MIN_COMPOSE}`, fix };
  return { id: 'compose', status: 'ok', message: `Docker Compose ${version.join('.')} (${MIN_COMPOSE} or newer)` };
}

interface GpuFound {
  readonly index: number;
  readonly name: string;
  readonly memoryMiB: number;
  readonly driver: string;
}

function gpuChecks(host: Host, node: Node, runtime: 'docker' | 'k3s'): CheckResult[] {
  if (!node.hasGpu) return [];
  const r = host.run(['nvidia-smi', '--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader,nounits']);
  const driverFix = 'install the NVIDIA driver (Debian: apt-get install nvidia-driver; Ubuntu: ubuntu-drivers install) and reboot';
  if (r.missing || r.code !== 0) {
    const message = r.missing ? 'nvidia-smi is not installed: no NVIDIA driver' : `nvidia-smi fails: ${firstLine(r)}`;
    return [{ id: 'nvidia-driver', status: 'fail', message, fix: driverFix }];
  }
  const found: GpuFound[] = r.stdout
    .split('\n')
    .map((l) => l.split(',').map((f) => f.trim()))
    .filter((f) => f.length >= 4)
    .map(([index, name, memory, driver]) => ({ index: Number(index), name: name as string, memoryMiB: Number(memory), driver: driver as string }));
  const checks: CheckResult[] = [];
  const drivers = [...new Set(found.map((g) => g.driver))];
  checks.push(found.length > 0 ? { id: 'nvidia-driver', status: 'ok', message: `NVIDIA driver ${drivers.join(', ')}` } : { id: 'nvidia-driver', status: 'fail', message: 'nvidia-smi lists no GPU', fix: driverFix });
  const expected = node.gpus.length;
  if (found.length < expected) {
    checks.push({ id: 'gpu-count', status: 'fail', message: `${found.length} GPU(s) found, nodes.${node.name}.gpus lists ${expected}`, fix: `seat the missing GPU(s), or list only the GPUs the node has under nodes.${node.name}.gpus` });
  } else if (found.length > expected) {
    checks.push({ id: 'gpu-count', status: 'warn', message: `${found.length} GPUs found, nodes.${node.name}.gpus lists ${expected}: the others stay unused`, fix: `list every GPU under nodes.${node.name}.gpus` });
  } else {
    checks.push({ id: 'gpu-count', status: 'ok', message: `${found.length} GPU(s), as nodes.${node.name}.gpus lists` });
  }
  const short = node.gpus
    .map((gpu) => ({ gpu, card: found.find((f) => f.index === gpu.index) }))
    .filter(({ gpu, card }) => card !== undefined && card.memoryMiB / 1024 < gpu.vramGb * 0.95)
    .map(({ gpu, card }) => `GPU ${gpu.index} (${card?.name}) has ${((card?.memoryMiB ?? 0) / 1024).toFixed(1)} GB, the config says ${gpu.vramGb} GB`);
  const checked = node.gpus.filter((g) => found.some((f) => f.index === g.index)).length;
  if (short.length > 0) {
    checks.push({ id: 'gpu-vram', status: 'fail', message: short.join('; '), fix: `set nodes.${node.name}.gpus[].vramGb to what nvidia-smi reports, so the VRAM budget (platform validate) is right` });
  } else if (checked > 0) {
    checks.push({ id: 'gpu-vram', status: 'ok', message: found.filter((f) => node.gpus.some((g) => g.index === f.index)).map((f) => `GPU ${f.index} ${f.name} ${(f.memoryMiB / 1024).toFixed(1)} GB`).join('; ') });
  }
  // On k3s the RuntimeClass check speaks for the runtime.
  if (runtime === 'k3s') return checks;
  const runtimes = host.run(['docker', 'info', '--format', '{{json .Runtimes}}']);
  const runtimeFix = 'install the NVIDIA Container Toolkit (nvidia-container-toolkit), then: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker';
  if (runtimes.missing || runtimes.code !== 0) {
    checks.push({ id: 'nvidia-runtime', status: 'fail', message: 'cannot ask Docker for its runtimes', fix: runtimeFix });
  } else if (!/"nvidia"/.test(runtimes.stdout)) {
    checks.push({ id: 'nvidia-runtime', status: 'fail', message: `Docker has no nvidia runtime (runtimes: ${Object.keys(safeJson(runtimes.stdout)).join(', ') || 'none'}): GPU reservations cannot start`, fix: runtimeFix });
  } else {
    checks.push({ id: 'nvidia-runtime', status: 'ok', message: 'Docker has the nvidia runtime (NVIDIA Container Toolkit)' });
  }
  return checks;
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** GB the node's services keep: every data volume of every service on it (10 GB when none is given). */
export function volumeBudgetGb(platform: Platform, node: Node): number {
  return platform.services
    .filter((s) => s.nodes.includes(node))
    .flatMap((s) => s.volumes)
    .reduce((sum, v) => sum + ('name' in v ? v.sizeGb : 0), 0);
}

/** Where k3s's local-path provisioner keeps claims (k3s default). */
const K3S_LOCAL_PATH = '/var/lib/rancher/k3s/storage';

function disk(host: Host, platform: Platform, node: Node, target: DoctorTarget): CheckResult {
  const need = volumeBudgetGb(platform, node);
  const bind = target === 'compose' && platform.config.storage.mode === 'bind';
  let path = target === 'k3s' ? K3S_LOCAL_PATH : platform.config.storage.root;
  if (target === 'compose' && !bind) {
    const root = host.run(['docker', 'info', '--format', '{{.DockerRootDir}}']);
    path = root.code === 0 && root.stdout.trim().startsWith('/') ? root.stdout.trim() : '/var/lib/docker';
  }
  // The folder may not exist yet (bind mode before storage.sh): df the nearest one that does.
  const candidates = path.split('/').map((_, i, parts) => parts.slice(0, parts.length - i).join('/') || '/');
  let r: CommandResult | undefined;
  let measured = path;
  for (const candidate of candidates) {
    r = host.run(['df', '-P', '-k', candidate]);
    measured = candidate;
    if (r.missing || r.code === 0) break;
  }
  if (!r || r.missing) return { id: 'disk', status: 'warn', message: 'df is not installed: free disk not checked', fix: 'install coreutils' };
  const fields = r.stdout.trim().split('\n').pop()?.split(/\s+/) ?? [];
  const freeGb = Number(fields[3]) * 1024 / GB;
  if (r.code !== 0 || !Number.isFinite(freeGb)) return { id: 'disk', status: 'warn', message: `cannot read free space of ${path}: ${firstLine(r)}`, fix: `check that ${path} is mounted` };
  const where = `${measured}${target === 'k3s' ? ' (local-path claims)' : bind ? ' (storage.root)' : ' (Docker volumes)'}`;
  const fix = `free space on ${measured}, or move the data to a bigger disk (storage.mode: bind with storage.root on it)`;
  if (freeGb < need) return { id: 'disk', status: 'fail', message: `${freeGb.toFixed(1)} GB free on ${where}, the volumes of this node need ${need} GB`, fix };
  // Images, logs and growth beyond the declared sizes need room too.
  if (freeGb < need * 1.2) return { id: 'disk', status: 'warn', message: `${freeGb.toFixed(1)} GB free on ${where}: the volumes need ${need} GB, images and logs come on top`, fix };
  return { id: 'disk', status: 'ok', message: `${freeGb.toFixed(1)} GB free on ${where}, the volumes of this node need ${need} GB` };
}

/** Local ports that listen, from `ss -H -l -n -t|-u` (the local address is the 4th column). */
function listening(output: string): { address: string; port: number }[] {
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3])
    .filter((local): local is string => local !== undefined && local.includes(':'))
    .map((local) => {
      const at = local.lastIndexOf(':');
      return { address: local.slice(0, at).replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(local.slice(at + 1)) };
    });
}

function ports(host: Host, platform: Platform, node: Node): CheckResult {
  const wanted = platform.linkPlan.published(node);
  if (wanted.length === 0) return { id: 'ports', status: 'ok', message: 'this node publishes no port' };
  const tcp = host.run(['ss', '-H', '-l', '-n', '-t']);
  const udp = host.run(['ss', '-H', '-l', '-n', '-u']);
  if (tcp.missing || tcp.code !== 0 || udp.code !== 0) return { id: 'ports', status: 'warn', message: 'ss is not installed: published ports not checked', fix: 'install iproute2' };
  const open = { tcp: listening(tcp.stdout), udp: listening(udp.stdout) };
  const wildcard = new Set(['0.0.0.0', '*', '::', '']);
  const busy = wanted.filter((p) =>
    open[p.protocol].some((l) => l.port === p.port && (wildcard.has(l.address) || l.address === node.bindAddress || wildcard.has(node.bindAddress))),
  );
  const list = (ps: typeof wanted) => ps.map((p) => `${p.port}/${p.protocol} (${p.service.name})`).join(', ');
  if (busy.length > 0) {
    return {
      id: 'ports',
      status: 'fail',
      message: `already in use on ${node.bindAddress}: ${list(busy)}`,
      fix: 'stop what listens there (ss -ltnup names it); if it is this platform already running, this is expected',
    };
  }
  return { id: 'ports', status: 'ok', message: `free on ${node.bindAddress}: ${list(wanted)}` };
}

function vlanParents(host: Host, platform: Platform, node: Node): CheckResult[] {
  const macvlan = [...new Set(platform.services.filter((s) => s.nodes.includes(node) && s.zone.driver === 'macvlan').map((s) => s.zone.name))].sort();
  if (macvlan.length === 0) return [];
  const r = host.run(['ip', '-o', 'link', 'show', node.networkInterface]);
  const zones = macvlan.join(', ');
  if (r.missing) return [{ id: 'vlan-parent', status: 'warn', message: `ip is not installed: interface ${node.networkInterface} not checked`, fix: 'install iproute2' }];
  if (r.code !== 0) {
    return [{ id: 'vlan-parent', status: 'fail', message: `interface ${node.networkInterface} (parent of the macvlan zones ${zones}) does not exist`, fix: `set nodes.${node.name}.interface to one of \`ip -o link\`` }];
  }
  return [{ id: 'vlan-parent', status: 'ok', message: `interface ${node.networkInterface} exists (macvlan zones ${zones})` }];
}

function timeSync(host: Host): CheckResult {
  const r = host.run(['timedatectl', 'show', '-p', 'NTPSynchronized', '--value']);
  const fix = 'enable time sync (systemctl enable --now systemd-timesyncd, or chrony): TLS, ACME and alert times need a right clock';
  if (r.missing || r.code !== 0) return { id: 'time-sync', status: 'warn', message: 'timedatectl is not available: clock sync not checked', fix };
  if (r.stdout.trim() === 'yes') return { id: 'time-sync', status: 'ok', message: 'the clock is synchronised (NTP)' };
  return { id: 'time-sync', status: 'warn', message: 'the clock is not synchronised (NTP)', fix };
}

/**
 * `getent hosts` for each name in one shell on the host (one ssh round trip, not one per site): it
 * prints the names that do not resolve (getent failed or printed nothing), and exits 127, as a
 * shell does for a program it cannot find, when there is no getent.
 */
const UNRESOLVED_SCRIPT = 'command -v getent >/dev/null 2>&1 || exit 127; for name do case $(getent hosts "$name") in "") echo "$name";; esac; done';

function hostsResolve(host: Host, platform: Platform): CheckResult {
  const names = [...platform.routes].map((r) => platform.fqdn(r.host)).sort();
  if (names.length === 0) return { id: 'dns', status: 'ok', message: 'no routed site' };
  // /bin/sh by its path: the PATH given may hold only the programs the checks read.
  const r = host.run(['/bin/sh', '-c', UNRESOLVED_SCRIPT, 'sh', ...names]);
  if (r.missing || r.code === 127) return { id: 'dns', status: 'warn', message: 'getent is not installed: site names not checked', fix: 'install libc-bin' };
  if (r.code !== 0) {
    // The lookups share the command's time limit: a resolver that never answers ends here.
    return { id: 'dns', status: 'warn', message: `the site names could not be looked up: ${firstLine(r)}`, fix: 'check that `getent hosts <name>` answers on the node (a resolver that does not answer makes every lookup wait)' };
  }
  const printed = new Set(r.stdout.split('\n'));
  const unresolved = names.filter((name) => printed.has(name));
  const exposure = platform.config.exposure;
  const fix =
    exposure === 'public'
      ? "import the rendered zone into Technitium and point your registrar's NS records at it (see the dns stack README)"
      : exposure === 'tailnet'
        ? 'add the names to your tailnet DNS (Tailscale split DNS to Technitium), or to this host'
        : 'add the names to your LAN DNS (point the router at Technitium), or to this host';
  if (unresolved.length > 0) return { id: 'dns', status: 'warn', message: `${unresolved.length} of ${names.length} site names do not resolve here (${exposure}): ${unresolved.join(', ')}`, fix };
  return { id: 'dns', status: 'ok', message: `all ${names.length} site names resolve (${exposure})` };
}

/** The target the node is prepared for: Docker Compose (Coolify or plain) or a k3s cluster. */
export type DoctorTarget = 'compose' | 'k3s';

interface KubeNode {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { allocatable?: Record<string, string> };
}

/**
 * k3s: the cluster as kubectl on the node sees it (k3s installs kubectl and reads its own
 * kubeconfig as root): the node registered under its config name (pods are placed by
 * kubernetes.io/hostname), a GPU node labelled and advertising its GPUs, the `nvidia` RuntimeClass
 * k3s creates when it finds the NVIDIA runtime, and ArgoCD installed.
 */
function clusterChecks(host: Host, platform: Platform, node: Node): CheckResult[] {
  const nodes = host.run(['kubectl', 'get', 'nodes', '-o', 'json']);
  const installFix = 'install k3s (curl -sfL https://get.k3s.io | sh -s - server --disable traefik), or run the doctor where kubectl reaches the cluster';
  if (nodes.missing) return [{ id: 'k3s', status: 'fail', message: 'kubectl is not installed: no k3s here', fix: installFix }];
  if (nodes.code !== 0) return [{ id: 'k3s', status: 'fail', message: `kubectl cannot reach the cluster: ${firstLine(nodes)}`, fix: 'start k3s (systemctl start k3s) and run as root, or set KUBECONFIG' }];
  const items = ((safeJson(nodes.stdout).items ?? []) as KubeNode[]).filter((n) => n?.metadata?.name);
  const checks: CheckResult[] = [];
  const names = items.map((n) => n.metadata.name).sort();
  const missing = platform.deployedNodes.filter((n) => !names.includes(n.name)).map((n) => n.name);
  checks.push(
    missing.length > 0
      ? { id: 'k3s-nodes', status: 'fail', message: `not in the cluster: ${missing.join(', ')} (cluster nodes: ${names.join(', ') || 'none'})`, fix: 'join each machine with its node name from platform.yaml (k3s agent --node-name <name>), or rename the nodes in platform.yaml' }
      : { id: 'k3s-nodes', status: 'ok', message: `every node of the config is in the cluster: ${platform.deployedNodes.map((n) => n.name).join(', ')}` },
  );
  const self = items.find((n) => n.metadata.name === node.name);
  if (node.hasGpu && self) {
    const labelled = self.metadata.labels?.[GPU_PRESENT_LABEL] === 'true';
    const advertised = Number(self.status?.allocatable?.[GPU_RESOURCE] ?? 0);
    if (!labelled) {
      checks.push({ id: 'k3s-gpu-label', status: 'fail', message: `${node.name} lacks the label ${GPU_PRESENT_LABEL}=true: the device plugin and GPU pods stay off it`, fix: `kubectl label node ${node.name} ${GPU_PRESENT_LABEL}=true` });
    } else if (advertised === 0) {
      checks.push({ id: 'k3s-gpu-label', status: 'warn', message: `${node.name} is labelled but advertises no ${GPU_RESOURCE} yet`, fix: 'sync the nvidia-device-plugin Application in ArgoCD, then check its pod on this node' });
    } else {
      checks.push({ id: 'k3s-gpu-label', status: 'ok', message: `${node.name} is labelled ${GPU_PRESENT_LABEL}=true and advertises ${advertised} ${GPU_RESOURCE}` });
    }
  }
  if (platform.deployedNodes.some((n) => n.hasGpu)) {
    const runtime = host.run(['kubectl', 'get', 'runtimeclass', 'nvidia', '-o', 'name']);
    checks.push(
      runtime.code === 0
        ? { id: 'k3s-runtime', status: 'ok', message: 'RuntimeClass nvidia exists' }
        : { id: 'k3s-runtime', status: 'fail', message: 'no RuntimeClass nvidia: GPU pods cannot start', fix: 'install the NVIDIA driver and container toolkit on the GPU nodes before k3s starts, then restart k3s (it creates the RuntimeClass when it finds the runtime)' },
    );
  }
  const namespace = platform.config.k3s.argocd.namespace;
  const argocd = host.run(['kubectl', 'get', 'deployment', 'argocd-server', '-n', namespace, '-o', 'name']);
  checks.push(
    argocd.code === 0
      ? { id: 'argocd', status: 'ok', message: `ArgoCD is installed in ${namespace}` }
      : { id: 'argocd', status: 'fail', message: `ArgoCD is not installed in ${namespace}`, fix: `kubectl create namespace ${namespace} && kubectl apply -n ${namespace} -f https://raw.githubusercontent.com/argoproj/argo-cd/stable/manifests/install.yaml` },
  );
  return checks;
}

/** The node to check: `--node`, or the only deployed node. */
export function doctorNode(platform: Platform, name: string | undefined): Node {
  const deployed = platform.deployedNodes;
  if (name !== undefined) {
    const node = platform.nodes.get(name);
    if (!node) throw new UsageError(`--node: no node is named "${name}"; nodes: ${[...platform.nodes.keys()].join(', ')}`);
    if (!node.deployed) throw new UsageError(`--node: ${name} is external: nothing is deployed to it`);
    return node;
  }
  if (deployed.length === 1) return deployed[0] as Node;
  throw new UsageError(`the config has ${deployed.length} nodes (${deployed.map((n) => n.name).join(', ')}): say which with --node`);
}

/** Every check of `node` for `target`, run on `host`, in a fixed order. */
export function runDoctor(platform: Platform, node: Node, host: Host, target: DoctorTarget = 'compose'): DoctorReport {
  const checks: CheckResult[] =
    target === 'compose'
      ? [
          docker(host),
          compose(host),
          ...gpuChecks(host, node, 'docker'),
          disk(host, platform, node, 'compose'),
          ports(host, platform, node),
          ...vlanParents(host, platform, node),
          timeSync(host),
          hostsResolve(host, platform),
        ]
      : [
          ...clusterChecks(host, platform, node),
          ...gpuChecks(host, node, 'k3s'),
          disk(host, platform, node, 'k3s'),
          timeSync(host),
          hostsResolve(host, platform),
        ];
  return { node: node.name, host: host.description, target, checks };
}

/** One line per check: status, id, what was found, and the fix. */
export function formatDoctor(report: DoctorReport, format: 'text' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const lines = report.checks.map((c) => `${c.status.padEnd(4)} ${c.id.padEnd(14)} ${c.message}${c.fix ? ` -> fix: ${c.fix}` : ''}`);
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  return `platform doctor: node ${report.node} for ${report.target} (${report.host})\n${lines.join('\n')}\n${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failure(s)\n`;
}
