import { UsageError } from '../config/errors.js';
import { GPU_PRESENT_LABEL, GPU_RESOURCE } from '../k3s/names.js';
import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import type { CommandResult, Host, Probe, SessionResults } from './host.js';

/*
 * `platform doctor`: read-only pre-flight checks of one node of the config, before deploying to it.
 * Every check names the ordinary read-only commands it reads (docker version/info, nvidia-smi, df,
 * ss, timedatectl, ip, getent, kubectl); the doctor runs all of them in one shell session on the
 * node (one ssh connection over --ssh), then each check compares what they printed with what the
 * platform will put there. A program that is missing is reported, never a crash.
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
/**
 * The doctor's time for reading the host, every session together: a command that hangs (a Docker
 * daemon that accepts and never answers, a stuck mount under df, a resolver that never replies)
 * ends there with a finding that names it, and the checks before it keep their answers.
 */
export const DOCTOR_TIME_LIMIT_MS = 30_000;

/** One check: the commands it reads on the host, and what it concludes from their answers. */
interface Check {
  /** Commands for the first session. */
  readonly probes: readonly Probe[];
  /** Commands that need an answer of the first session; a second session runs them, only when some check has any. */
  followUp?(first: SessionResults): readonly Probe[];
  decide(results: SessionResults): CheckResult[];
}

const probe = (...argv: string[]): Probe => ({ argv });

/** The answer to a probe that runs in every case (no `when`). */
function answer(results: SessionResults, asked: Probe): CommandResult {
  const result = results.get(asked);
  if (!result) throw new Error(`doctor: no answer to ${asked.argv.join(' ')}`);
  return result;
}

/** A command the time limit cut short gave no answer: the check says which, and is not made. */
function notAnswered(id: string, status: CheckStatus, subject: string, r: CommandResult): CheckResult {
  return { id, status, message: `${subject} not checked: ${r.cutShort}`, fix: 'run that command on the node to see what it waits for' };
}

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

function docker(): Check {
  const version = probe('docker', 'version', '--format', '{{.Server.Version}}');
  return { probes: [version], decide: (results) => [dockerFinding(answer(results, version))] };
}

function dockerFinding(r: CommandResult): CheckResult {
  const fix = `install Docker Engine ${MIN_DOCKER} or newer (https://docs.docker.com/engine/install/)`;
  if (r.missing) return { id: 'docker', status: 'fail', message: 'docker is not installed', fix };
  if (r.cutShort) return notAnswered('docker', 'fail', 'Docker Engine', r);
  if (r.code !== 0) {
    return { id: 'docker', status: 'fail', message: `docker does not answer: ${firstLine(r)}`, fix: 'start the daemon (systemctl start docker) and run as root or a member of the docker group' };
  }
  const version = parseVersion(r.stdout);
  if (!version) return { id: 'docker', status: 'fail', message: `cannot read the Docker Engine version from "${r.stdout.trim()}"`, fix };
  if (!atLeast(version, MIN_DOCKER)) return { id: 'docker', status: 'fail', message: `Docker Engine ${version.join('.')} is older than ${MIN_DOCKER}`, fix };
  return { id: 'docker', status: 'ok', message: `Docker Engine ${version.join('.')} (${MIN_DOCKER} or newer)` };
}

function compose(): Check {
  const version = probe('docker', 'compose', 'version', '--short');
  return { probes: [version], decide: (results) => [composeFinding(answer(results, version))] };
}

function composeFinding(r: CommandResult): CheckResult {
  const fix = `install the Docker Compose plugin ${MIN_COMPOSE} or newer (apt-get install docker-compose-plugin); Debian's docker-compose 1.x cannot read the files`;
  if (r.missing) return { id: 'compose', status: 'fail', message: 'docker is not installed, so neither is Compose', fix };
  if (r.cutShort) return notAnswered('compose', 'fail', 'Docker Compose', r);
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

function gpuChecks(node: Node, runtime: 'docker' | 'k3s'): Check[] {
  if (!node.hasGpu) return [];
  const smi = probe('nvidia-smi', '--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader,nounits');
  // On k3s the RuntimeClass check speaks for the runtime; Docker is asked only when the driver answers.
  const runtimes: Probe | undefined = runtime === 'docker' ? { argv: ['docker', 'info', '--format', '{{json .Runtimes}}'], when: { after: smi, ended: 'zero' } } : undefined;
  return [{ probes: runtimes ? [smi, runtimes] : [smi], decide: (results) => gpuFindings(node, answer(results, smi), runtimes && results.get(runtimes)) }];
}

function gpuFindings(node: Node, r: CommandResult, runtimes: CommandResult | undefined): CheckResult[] {
  const driverFix = 'install the NVIDIA driver (Debian: apt-get install nvidia-driver; Ubuntu: ubuntu-drivers install) and reboot';
  if (r.cutShort) return [notAnswered('nvidia-driver', 'fail', 'the NVIDIA driver', r)];
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
  if (!runtimes) return checks;
  const runtimeFix = 'install the NVIDIA Container Toolkit (nvidia-container-toolkit), then: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker';
  if (runtimes.cutShort) {
    checks.push(notAnswered('nvidia-runtime', 'fail', "Docker's nvidia runtime", runtimes));
  } else if (runtimes.missing || runtimes.code !== 0) {
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

/** Where Docker keeps volumes unless the daemon's `data-root` moves it. */
const DOCKER_ROOT = '/var/lib/docker';

/** The df probes of one folder, and the folder each one measures. */
interface DfWalk {
  readonly path: string;
  readonly steps: readonly { readonly folder: string; readonly probe: Probe }[];
}

/**
 * The folder may not exist yet (bind mode before storage.sh): df the folder, then each parent in
 * turn, each df only when the one before it failed, so the nearest folder that exists is measured.
 */
function dfWalk(path: string): DfWalk {
  const folders = path.split('/').map((_, i, parts) => parts.slice(0, parts.length - i).join('/') || '/');
  const steps: { folder: string; probe: Probe }[] = [];
  for (const folder of folders) {
    const before = steps.at(-1)?.probe;
    steps.push({ folder, probe: { argv: ['df', '-P', '-k', folder], ...(before ? { when: { after: before, ended: 'failed' as const } } : {}) } });
  }
  return { path, steps };
}

const walkProbes = (walk: DfWalk) => walk.steps.map((s) => s.probe);

function disk(platform: Platform, node: Node, target: DoctorTarget): Check {
  const need = volumeBudgetGb(platform, node);
  const bind = target === 'compose' && platform.config.storage.mode === 'bind';
  const label = target === 'k3s' ? ' (local-path claims)' : bind ? ' (storage.root)' : ' (Docker volumes)';
  if (target === 'k3s' || bind) {
    const walk = dfWalk(target === 'k3s' ? K3S_LOCAL_PATH : platform.config.storage.root);
    return { probes: walkProbes(walk), decide: (results) => [diskFinding(walk, results, need, label)] };
  }
  /*
   * Docker volumes live under Docker's root folder, which only the daemon knows. The first session
   * asks for it and measures /var/lib/docker, where it almost always is; only a daemon whose
   * data-root moved it elsewhere costs a second session, to measure that folder. Handing the first
   * answer to df inside the script instead would mean reading docker's output in the shell: every
   * answer is read here, in one place.
   */
  const rootDir = probe('docker', 'info', '--format', '{{.DockerRootDir}}');
  const walks = new Map([[DOCKER_ROOT, dfWalk(DOCKER_ROOT)]]);
  const walkFor = (results: SessionResults): DfWalk => {
    const root = answer(results, rootDir);
    const path = root.code === 0 && root.stdout.trim().startsWith('/') ? root.stdout.trim() : DOCKER_ROOT;
    if (!walks.has(path)) walks.set(path, dfWalk(path));
    return walks.get(path) as DfWalk;
  };
  return {
    probes: [rootDir, ...walkProbes(walks.get(DOCKER_ROOT) as DfWalk)],
    followUp: (first) => (walkFor(first).path === DOCKER_ROOT ? [] : walkProbes(walkFor(first))),
    decide: (results) => [diskFinding(walkFor(results), results, need, label)],
  };
}

function diskFinding(walk: DfWalk, results: SessionResults, need: number, label: string): CheckResult {
  const path = walk.path;
  let r: CommandResult | undefined;
  let measured = path;
  for (const step of walk.steps) {
    const answered = results.get(step.probe);
    if (!answered) break;
    r = answered;
    measured = step.folder;
    if (r.missing || r.code === 0 || r.cutShort) break;
  }
  if (!r || r.missing) return { id: 'disk', status: 'warn', message: 'df is not installed: free disk not checked', fix: 'install coreutils' };
  if (r.cutShort) return notAnswered('disk', 'warn', 'free disk', r);
  const fields = r.stdout.trim().split('\n').pop()?.split(/\s+/) ?? [];
  const freeGb = Number(fields[3]) * 1024 / GB;
  if (r.code !== 0 || !Number.isFinite(freeGb)) return { id: 'disk', status: 'warn', message: `cannot read free space of ${path}: ${firstLine(r)}`, fix: `check that ${path} is mounted` };
  const where = `${measured}${label}`;
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

function ports(platform: Platform, node: Node): Check {
  const wanted = platform.linkPlan.published(node);
  if (wanted.length === 0) return { probes: [], decide: () => [{ id: 'ports', status: 'ok', message: 'this node publishes no port' }] };
  const tcpListeners = probe('ss', '-H', '-l', '-n', '-t');
  const udpListeners = probe('ss', '-H', '-l', '-n', '-u');
  return { probes: [tcpListeners, udpListeners], decide: (results) => [portsFinding(node, wanted, answer(results, tcpListeners), answer(results, udpListeners))] };
}

function portsFinding(node: Node, wanted: ReturnType<Platform['linkPlan']['published']>, tcp: CommandResult, udp: CommandResult): CheckResult {
  const cut = [tcp, udp].find((r) => r.cutShort);
  if (cut) return notAnswered('ports', 'warn', 'published ports', cut);
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

function vlanParents(platform: Platform, node: Node): Check[] {
  const macvlan = [...new Set(platform.services.filter((s) => s.nodes.includes(node) && s.zone.driver === 'macvlan').map((s) => s.zone.name))].sort();
  if (macvlan.length === 0) return [];
  const link = probe('ip', '-o', 'link', 'show', node.networkInterface);
  return [{ probes: [link], decide: (results) => [vlanFinding(node, macvlan.join(', '), answer(results, link))] }];
}

function vlanFinding(node: Node, zones: string, r: CommandResult): CheckResult {
  if (r.missing) return { id: 'vlan-parent', status: 'warn', message: `ip is not installed: interface ${node.networkInterface} not checked`, fix: 'install iproute2' };
  if (r.cutShort) return notAnswered('vlan-parent', 'warn', `interface ${node.networkInterface}`, r);
  if (r.code !== 0) {
    return { id: 'vlan-parent', status: 'fail', message: `interface ${node.networkInterface} (parent of the macvlan zones ${zones}) does not exist`, fix: `set nodes.${node.name}.interface to one of \`ip -o link\`` };
  }
  return { id: 'vlan-parent', status: 'ok', message: `interface ${node.networkInterface} exists (macvlan zones ${zones})` };
}

function timeSync(): Check {
  const ntp = probe('timedatectl', 'show', '-p', 'NTPSynchronized', '--value');
  return { probes: [ntp], decide: (results) => [timeFinding(answer(results, ntp))] };
}

function timeFinding(r: CommandResult): CheckResult {
  const fix = 'enable time sync (systemctl enable --now systemd-timesyncd, or chrony): TLS, ACME and alert times need a right clock';
  if (r.cutShort) return notAnswered('time-sync', 'warn', 'clock sync', r);
  if (r.missing || r.code !== 0) return { id: 'time-sync', status: 'warn', message: 'timedatectl is not available: clock sync not checked', fix };
  if (r.stdout.trim() === 'yes') return { id: 'time-sync', status: 'ok', message: 'the clock is synchronised (NTP)' };
  return { id: 'time-sync', status: 'warn', message: 'the clock is not synchronised (NTP)', fix };
}

/**
 * The routed site names, looked up on the node with getent, in the same session as the other
 * probes: first all of them in one `getent hosts <name>...`, which exits 0 only when it found
 * every name (glibc getent: exit 2 when one or more keys are not found) and prints an address for
 * each. Only when that one fails does each name get a lookup of its own, to say which do not
 * resolve: a node whose names all resolve asks its resolver once, not once per site.
 */
function hostsResolve(platform: Platform): Check {
  const names = [...platform.routes].map((r) => platform.fqdn(r.host)).sort();
  if (names.length === 0) return { probes: [], decide: () => [{ id: 'dns', status: 'ok', message: 'no routed site' }] };
  const every = probe('getent', 'hosts', ...names);
  const lookups = names.map((name) => ({ name, probe: { argv: ['getent', 'hosts', name], when: { after: every, ended: 'failed' as const } } }));
  return {
    probes: [every, ...lookups.map((l) => l.probe)],
    decide: (results) => [dnsFinding(platform, answer(results, every), lookups.map((l) => ({ name: l.name, r: results.get(l.probe) })))],
  };
}

function dnsFinding(platform: Platform, every: CommandResult, lookups: readonly { name: string; r: CommandResult | undefined }[]): CheckResult {
  const names = lookups.map((l) => l.name);
  if (every.missing) return { id: 'dns', status: 'warn', message: 'getent is not installed: site names not checked', fix: 'install libc-bin' };
  // The lookups share the doctor's time limit: a resolver that never answers ends here.
  const cut = [every, ...lookups.map((l) => l.r)].find((r) => r?.cutShort);
  if (cut) return { id: 'dns', status: 'warn', message: `the site names could not be looked up: ${cut.cutShort}`, fix: 'check that `getent hosts <name>` answers on the node (a resolver that does not answer makes every lookup wait)' };
  // Each name was looked up alone only when the lookup of all of them failed.
  const unresolved = every.code === 0 ? [] : lookups.filter((l) => !l.r || l.r.code !== 0 || l.r.stdout.trim() === '').map((l) => l.name);
  const exposure = platform.config.exposure;
  if (unresolved.length === 0) return { id: 'dns', status: 'ok', message: `all ${names.length} site names resolve (${exposure})` };
  const fix =
    exposure === 'public'
      ? "import the rendered zone into Technitium and point your registrar's NS records at it (see the dns stack README)"
      : exposure === 'tailnet'
        ? 'add the names to your tailnet DNS (Tailscale split DNS to Technitium), or to this host'
        : 'add the names to your LAN DNS (point the router at Technitium), or to this host';
  return { id: 'dns', status: 'warn', message: `${unresolved.length} of ${names.length} site names do not resolve here (${exposure}): ${unresolved.join(', ')}`, fix };
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
function clusterChecks(platform: Platform, node: Node): Check {
  const nodeList = probe('kubectl', 'get', 'nodes', '-o', 'json');
  // Asked only when kubectl reaches the cluster: an API server that does not answer is waited for once, not three times.
  const afterNodes = { after: nodeList, ended: 'zero' as const };
  const runtimeClass: Probe | undefined = platform.deployedNodes.some((n) => n.hasGpu) ? { argv: ['kubectl', 'get', 'runtimeclass', 'nvidia', '-o', 'name'], when: afterNodes } : undefined;
  const argocdServer: Probe = { argv: ['kubectl', 'get', 'deployment', 'argocd-server', '-n', platform.config.k3s.argocd.namespace, '-o', 'name'], when: afterNodes };
  const asked = { nodeList, runtimeClass, argocdServer };
  return { probes: [nodeList, ...(runtimeClass ? [runtimeClass] : []), argocdServer], decide: (results) => clusterFindings(platform, node, results, asked) };
}

function clusterFindings(platform: Platform, node: Node, results: SessionResults, asked: { nodeList: Probe; runtimeClass?: Probe; argocdServer: Probe }): CheckResult[] {
  const nodes = answer(results, asked.nodeList);
  const installFix = 'install k3s (curl -sfL https://get.k3s.io | sh -s - server --disable traefik), or run the doctor where kubectl reaches the cluster';
  if (nodes.missing) return [{ id: 'k3s', status: 'fail', message: 'kubectl is not installed: no k3s here', fix: installFix }];
  if (nodes.cutShort) return [notAnswered('k3s', 'fail', 'the cluster', nodes)];
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
  if (asked.runtimeClass) {
    const runtime = answer(results, asked.runtimeClass);
    checks.push(
      runtime.cutShort
        ? notAnswered('k3s-runtime', 'fail', 'RuntimeClass nvidia', runtime)
        : runtime.code === 0
        ? { id: 'k3s-runtime', status: 'ok', message: 'RuntimeClass nvidia exists' }
        : { id: 'k3s-runtime', status: 'fail', message: 'no RuntimeClass nvidia: GPU pods cannot start', fix: 'install the NVIDIA driver and container toolkit on the GPU nodes before k3s starts, then restart k3s (it creates the RuntimeClass when it finds the runtime)' },
    );
  }
  const namespace = platform.config.k3s.argocd.namespace;
  const argocd = answer(results, asked.argocdServer);
  checks.push(
    argocd.cutShort
      ? notAnswered('argocd', 'fail', 'ArgoCD', argocd)
      : argocd.code === 0
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

/** How long the doctor may take. */
export interface DoctorOptions {
  /**
   * Time for reading the host, every session together (the second session, when there is one, gets
   * what the first left).
   * @default DOCTOR_TIME_LIMIT_MS (30 s)
   */
  readonly timeLimitMs?: number;
}

/**
 * Every check of `node` for `target`, read from `host` in one session (two when Docker's root
 * folder is not /var/lib/docker), in a fixed order.
 */
export function runDoctor(platform: Platform, node: Node, host: Host, target: DoctorTarget = 'compose', options: DoctorOptions = {}): DoctorReport {
  const timeLimitMs = options.timeLimitMs ?? DOCTOR_TIME_LIMIT_MS;
  const deadline = Date.now() + timeLimitMs;
  const checks: Check[] =
    target === 'compose'
      ? [
          docker(),
          compose(),
          ...gpuChecks(node, 'docker'),
          disk(platform, node, 'compose'),
          ports(platform, node),
          ...vlanParents(platform, node),
          timeSync(),
          hostsResolve(platform),
        ]
      : [clusterChecks(platform, node), ...gpuChecks(node, 'k3s'), disk(platform, node, 'k3s'), timeSync(), hostsResolve(platform)];
  const first = host.session(checks.flatMap((c) => c.probes), timeLimitMs);
  const more = checks.flatMap((c) => c.followUp?.(first) ?? []);
  const results = more.length === 0 ? first : new Map([...first, ...host.session(more, deadline - Date.now())]);
  return { node: node.name, host: host.description, target, checks: checks.flatMap((c) => c.decide(results)) };
}

/** One line per check: status, id, what was found, and the fix. */
export function formatDoctor(report: DoctorReport, format: 'text' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const lines = report.checks.map((c) => `${c.status.padEnd(4)} ${c.id.padEnd(14)} ${c.message}${c.fix ? ` -> fix: ${c.fix}` : ''}`);
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  return `platform doctor: node ${report.node} for ${report.target} (${report.host})\n${lines.join('\n')}\n${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failure(s)\n`;
}
