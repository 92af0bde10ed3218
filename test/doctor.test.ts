import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { UsageError } from '../lib/config/errors.js';
import { doctorNode, formatDoctor, runDoctor, volumeBudgetGb, type CheckResult } from '../lib/doctor/doctor.js';
import { LocalHost, splitSession, SshHost, type Host, type Probe } from '../lib/doctor/host.js';
import { shellQuote } from '../lib/output/shell.js';
import { buildPlatform } from '../lib/synth.js';
import { platformInProcess } from './support/cli.js';
import { loadFixture } from './support/render.js';

/*
 * `platform doctor` against stand-ins of the programs it reads (docker, nvidia-smi, df, ss,
 * timedatectl, ip, getent): a PATH of small scripts that print what a healthy or a broken host
 * prints. ssh is a stand-in too (it runs the command it is handed here): nothing leaves the machine.
 * Then once on the machine the tests run on, where most of those programs are absent or idle.
 */

const scratch = mkdtempSync(join(tmpdir(), 'platform-doctor-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What the stand-ins print, by program. */
interface FakeHost {
  dockerVersion?: string;
  dockerDown?: boolean;
  composeVersion?: string;
  runtimes?: string;
  gpus?: string;
  dfAvailableKb?: number;
  ssTcp?: string;
  ssUdp?: string;
  ntp?: string;
  interfaces?: string[];
  resolvable?: boolean;
  /** Names getent does not find even when `resolvable`. */
  unresolvable?: string[];
  /** `kubectl get nodes -o json`. */
  kubeNodes?: unknown[];
  runtimeClass?: boolean;
  argocd?: boolean;
  /** kubectl cannot reach the cluster. */
  kubeDown?: boolean;
  /** Docker's `DockerRootDir` (default /var/lib/docker). */
  dockerRoot?: string;
  /** Folders df finds no such file for. */
  noSuchFolders?: string[];
  /** A program that never answers (it sleeps; its pid goes to `<bin>/hung.pid`). */
  hangs?: string;
  /** Programs left out of PATH. */
  absent?: string[];
}

const HEALTHY: FakeHost = {
  dockerVersion: '27.3.1',
  composeVersion: 'v2.29.7',
  runtimes: '{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}',
  gpus: '0, NVIDIA GeForce RTX 4090, 24564, 550.54.14',
  dfAvailableKb: 2_000_000_000,
  ssTcp: 'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nLISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*',
  ssUdp: 'UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*',
  ntp: 'yes',
  interfaces: ['enp3s0', 'eth0'],
  resolvable: true,
};

let hosts = 0;

/**
 * A folder of stand-in programs for `fake`; its path is the whole PATH. Each stand-in appends its
 * command line to `<bin>/calls.log` before it answers.
 */
function fakeBin(fake: FakeHost): string {
  const dir = join(scratch, `bin-${(hosts += 1)}`);
  mkdirSync(dir);
  const log = shellQuote(join(dir, 'calls.log'));
  const parents = shellQuote(join(dir, 'parents.log'));
  const script = (name: string, body: string) => {
    if (fake.absent?.includes(name)) return;
    const hang = fake.hangs === name ? `echo $$ > ${shellQuote(join(dir, 'hung.pid'))}; exec /bin/sleep 60\n` : '';
    // Each stand-in also logs its parent process: the shell that ran it.
    writeFileSync(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> ${log}\nprintf '%s\\n' "$PPID" >> ${parents}\n${hang}${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  const q = (text: string | undefined) => shellQuote(text ?? '');
  script(
    'docker',
    [
      `if [ "$1" = version ]; then ${fake.dockerDown ? 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1' : `printf '%s\\n' ${q(fake.dockerVersion)}`}; exit 0; fi`,
      `if [ "$1 $2" = "compose version" ]; then printf '%s\\n' ${q(fake.composeVersion)}; exit 0; fi`,
      `if [ "$1 $3" = "info {{json .Runtimes}}" ]; then printf '%s\\n' ${q(fake.runtimes)}; exit 0; fi`,
      `if [ "$1 $3" = "info {{.DockerRootDir}}" ]; then printf '%s\\n' ${q(fake.dockerRoot ?? '/var/lib/docker')}; exit 0; fi`,
      'echo "unexpected: docker $*" >&2; exit 64',
    ].join('\n'),
  );
  script('nvidia-smi', `printf '%s\\n' ${q(fake.gpus)}`);
  script('df', `for f in ${(fake.noSuchFolders ?? []).map(shellQuote).join(' ')}; do [ "$3" = "$f" ] && { echo "df: $f: No such file or directory" >&2; exit 1; }; done; echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'; echo "/dev/nvme0n1p2 3000000000 1000 ${fake.dfAvailableKb ?? 0} 1% /"`);
  script('ss', `case "$*" in *-t*) printf '%s\\n' ${q(fake.ssTcp)};; *) printf '%s\\n' ${q(fake.ssUdp)};; esac`);
  script('timedatectl', `printf '%s\\n' ${q(fake.ntp)}`);
  script('ip', `for i in ${(fake.interfaces ?? []).join(' ')}; do [ "$4" = "$i" ] && { echo "2: $i: <BROADCAST,MULTICAST,UP>"; exit 0; }; done; echo "Device \\"$4\\" does not exist." >&2; exit 1`);
  // As glibc's getent: a line per key it finds, exit 2 when one or more is not found.
  const notFound = fake.unresolvable?.length ? `case "$name" in ${fake.unresolvable.map(shellQuote).join('|')}) missing=1; continue;; esac; ` : '';
  script('getent', fake.resolvable ? `shift; missing=0; for name in "$@"; do ${notFound}echo "203.0.113.7 $name"; done; [ $missing = 0 ] || exit 2` : 'exit 2');
  script(
    'kubectl',
    [
      ...(fake.kubeDown ? ['echo \'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\' >&2; exit 1'] : []),
      `if [ "$*" = "get nodes -o json" ]; then printf '%s\\n' ${q(JSON.stringify({ items: fake.kubeNodes ?? [] }))}; exit 0; fi`,
      `if [ "$*" = "get runtimeclass nvidia -o name" ]; then ${fake.runtimeClass ? 'echo runtimeclass.node.k8s.io/nvidia; exit 0' : 'echo \'Error from server (NotFound): runtimeclasses.node.k8s.io "nvidia" not found\' >&2; exit 1'}; fi`,
      `if [ "$*" = "get deployment argocd-server -n argocd -o name" ]; then ${fake.argocd ? 'echo deployment.apps/argocd-server; exit 0' : 'exit 1'}; fi`,
      'echo "unexpected: kubectl $*" >&2; exit 64',
    ].join('\n'),
  );
  return dir;
}

/** The reference platform, built once: the doctor only reads it. */
let referencePlatform: ReturnType<typeof buildPlatform> | undefined;
const reference = () => (referencePlatform ??= buildPlatform(referenceConfig()));
/** The routed site names the DNS check looks up, in its order. */
const siteNames = (platform: ReturnType<typeof buildPlatform>) => [...platform.routes].map((r) => platform.fqdn(r.host)).sort();
const byId = (checks: readonly CheckResult[]) => Object.fromEntries(checks.map((c) => [c.id, c]));
/** The lines a stand-in appended to `file`, in order (none when it never ran). */
const logLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n') : []);
/** What the stand-ins in `bin` were asked, in order. */
const calls = (bin: string) => logLines(join(bin, 'calls.log'));

/**
 * A stand-in ssh in `bin`: records its arguments in `<bin>/ssh.log`, then runs the remote command
 * line here as sshd does (the login shell reads the command, the session's stdin passes through).
 * `refuse` makes it fail as ssh does when it cannot connect.
 */
function fakeSsh(bin: string, refuse = false): string {
  const log = join(bin, 'ssh.log');
  const connect = refuse ? `echo 'ssh: connect to host rtx.lan port 22: Connection refused' >&2; exit 255` : `while [ "$1" != -- ]; do shift; done; shift\nexec /bin/sh -c "$*"`;
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${shellQuote(log)}\n${connect}\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  return log;
}

describe('platform doctor on a stand-in host', () => {
  it('a healthy GPU node passes every check, with the numbers', () => {
    const platform = reference();
    const report = runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: fakeBin(HEALTHY) }));
    const checks = byId(report.checks);
    expect(report.checks.map((c) => c.id)).toEqual(['docker', 'compose', 'nvidia-driver', 'gpu-count', 'gpu-vram', 'nvidia-runtime', 'disk', 'ports', 'time-sync', 'dns']);
    for (const check of report.checks) expect(check.status, `${check.id}: ${check.message}`).toBe('ok');
    expect(checks.docker?.message).toBe('Docker Engine 27.3.1 (20.10.0 or newer)');
    expect(checks.compose?.message).toBe('Docker Compose 2.29.7 (2.23.1 or newer)');
    expect(checks['nvidia-driver']?.message).toBe('NVIDIA driver 550.54.14');
    expect(checks['gpu-vram']?.message).toBe('GPU 0 NVIDIA GeForce RTX 4090 24.0 GB');
    expect(checks.disk?.message).toContain(`the volumes of this node need ${volumeBudgetGb(platform, doctorNode(platform, 'rtx'))} GB`);
  });

  it('a broken host fails each check it should, each with its fix', () => {
    const platform = reference();
    const bin = fakeBin({
      ...HEALTHY,
      composeVersion: '2.20.3',
      runtimes: '{"runc":{"path":"runc"}}',
      gpus: '',
      dfAvailableKb: 10 * 1024 * 1024,
      ssTcp: 'LISTEN 0 511 0.0.0.0:443 0.0.0.0:*\nLISTEN 0 511 192.168.1.10:80 0.0.0.0:*\nLISTEN 0 128 127.0.0.1:9100 0.0.0.0:*',
      ntp: 'no',
      resolvable: false,
    });
    const homelab = byId(runDoctor(platform, doctorNode(platform, 'homelab'), new LocalHost({ PATH: bin })).checks);
    expect(homelab.compose).toMatchObject({ status: 'fail', message: 'Docker Compose 2.20.3 is older than 2.23.1' });
    expect(homelab.disk?.status).toBe('fail');
    expect(homelab.disk?.message).toMatch(/^10\.0 GB free on \/var\/lib\/docker \(Docker volumes\), the volumes of this node need \d+ GB$/);
    // 443 on every address and 80 on the node's address collide; 9100 on loopback does not.
    expect(homelab.ports).toMatchObject({ status: 'fail', message: 'already in use on 192.168.1.10: 80/tcp (caddy), 443/tcp (caddy)' });
    expect(homelab['time-sync']?.status).toBe('warn');
    expect(homelab.dns).toMatchObject({ status: 'warn' });
    expect(homelab.dns?.message).toMatch(/^9 of 9 site names do not resolve here \(public\)/);
    const rtx = byId(runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: bin })).checks);
    expect(rtx['nvidia-driver']).toMatchObject({ status: 'fail', message: 'nvidia-smi lists no GPU' });
    expect(rtx['gpu-count']).toMatchObject({ status: 'fail', message: '0 GPU(s) found, nodes.rtx.gpus lists 1' });
    expect(rtx['nvidia-runtime']).toMatchObject({ status: 'fail', message: 'Docker has no nvidia runtime (runtimes: runc): GPU reservations cannot start' });
    for (const check of [...Object.values(homelab), ...Object.values(rtx)].filter((c) => c.status !== 'ok')) expect(check.fix, check.id).toBeTruthy();
  });

  it('old Docker, a daemon that does not answer, a smaller card than the config says', () => {
    const platform = reference();
    const rtx = doctorNode(platform, 'rtx');
    const old = byId(runDoctor(platform, rtx, new LocalHost({ PATH: fakeBin({ ...HEALTHY, dockerVersion: '19.03.15', gpus: '0, NVIDIA GeForce RTX 4080, 16376, 550.54.14' }) })).checks);
    expect(old.docker).toMatchObject({ status: 'fail', message: 'Docker Engine 19.3.15 is older than 20.10.0' });
    expect(old['gpu-vram']).toMatchObject({ status: 'fail', message: 'GPU 0 (NVIDIA GeForce RTX 4080) has 16.0 GB, the config says 24 GB' });
    const down = byId(runDoctor(platform, rtx, new LocalHost({ PATH: fakeBin({ ...HEALTHY, dockerDown: true }) })).checks);
    expect(down.docker).toMatchObject({ status: 'fail', message: 'docker does not answer: Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' });
  });

  it('programs that are not installed are reported as absent, never a crash', () => {
    const platform = reference();
    const bin = fakeBin({ absent: ['docker', 'nvidia-smi', 'df', 'ss', 'timedatectl', 'ip', 'getent'] });
    const report = runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: bin }));
    expect(report.checks.map((c) => [c.id, c.status, c.message])).toEqual([
      ['docker', 'fail', 'docker is not installed'],
      ['compose', 'fail', 'docker is not installed, so neither is Compose'],
      ['nvidia-driver', 'fail', 'nvidia-smi is not installed: no NVIDIA driver'],
      ['disk', 'warn', 'df is not installed: free disk not checked'],
      ['ports', 'warn', 'ss is not installed: published ports not checked'],
      ['time-sync', 'warn', 'timedatectl is not available: clock sync not checked'],
      ['dns', 'warn', 'getent is not installed: site names not checked'],
    ]);
  });

  it('a macvlan zone needs its parent interface on the node', () => {
    const platform = buildPlatform(loadFixture('valid', 'gpu-over-lan'));
    const node = doctorNode(platform, 'homelab');
    const present = byId(runDoctor(platform, node, new LocalHost({ PATH: fakeBin(HEALTHY) })).checks);
    expect(present['vlan-parent']).toMatchObject({ status: 'ok', message: 'interface enp3s0 exists (macvlan zones services)' });
    const missing = byId(runDoctor(platform, node, new LocalHost({ PATH: fakeBin({ ...HEALTHY, interfaces: ['eth0'] }) })).checks);
    expect(missing['vlan-parent']).toMatchObject({ status: 'fail', fix: 'set nodes.homelab.interface to one of `ip -o link`' });
    // Only nodes with a macvlan zone are asked.
    expect(byId(runDoctor(reference(), doctorNode(reference(), 'homelab'), new LocalHost({ PATH: fakeBin(HEALTHY) })).checks)['vlan-parent']).toBeUndefined();
  });

  it('--ssh reads the host through one ssh connection in batch mode, with the same answers', () => {
    const platform = reference();
    const node = doctorNode(platform, 'rtx');
    for (const fake of [HEALTHY, { absent: ['docker', 'nvidia-smi', 'df', 'ss', 'timedatectl', 'ip', 'getent'] }]) {
      const bin = fakeBin(fake);
      const log = fakeSsh(bin);
      const remote = runDoctor(platform, node, new SshHost('admin@rtx.lan', { PATH: bin }));
      expect(remote.host).toBe('ssh admin@rtx.lan');
      // One connection; the remote command is only `/bin/sh -s`, the script comes on its stdin.
      expect(logLines(log)).toEqual(['-o BatchMode=yes -o ConnectTimeout=10 admin@rtx.lan -- /bin/sh -s']);
      expect(remote.checks).toEqual(runDoctor(platform, node, new LocalHost({ PATH: bin })).checks);
    }
  });

  it('an ssh that cannot connect (exit 255) is a usage error with its reason', () => {
    const bin = fakeBin(HEALTHY);
    fakeSsh(bin, true);
    const platform = reference();
    const run = () => runDoctor(platform, doctorNode(platform, 'rtx'), new SshHost('admin@rtx.lan', { PATH: bin }));
    expect(run).toThrow(UsageError);
    expect(run).toThrow('ssh admin@rtx.lan: ssh: connect to host rtx.lan port 22: Connection refused');
    expect(() => runDoctor(platform, doctorNode(platform, 'rtx'), new SshHost('rtx.lan', { PATH: fakeBin(HEALTHY) }))).toThrow('--ssh needs the ssh client on this machine');
  });

  it('refuses an ssh target that would be an option, and a node it does not know', () => {
    expect(() => new SshHost('-oProxyCommand=touch /tmp/x')).toThrow(UsageError);
    expect(() => new SshHost('admin@host; rm -rf /')).toThrow('--ssh: got "admin@host; rm -rf /"; must be user@host or host');
    const platform = reference();
    expect(() => doctorNode(platform, undefined)).toThrow('the config has 2 nodes (homelab, rtx): say which with --node');
    expect(() => doctorNode(platform, 'nas')).toThrow('--node: no node is named "nas"; nodes: homelab, rtx');
  });

  it('text: one line per check with its status and fix; json: the same checks', () => {
    const platform = reference();
    const report = runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: fakeBin({ ...HEALTHY, ntp: 'no' }) }));
    const text = formatDoctor(report, 'text').split('\n');
    expect(text[0]).toBe('platform doctor: node rtx for compose (this machine)');
    expect(text).toContain('warn time-sync      the clock is not synchronised (NTP) -> fix: enable time sync (systemctl enable --now systemd-timesyncd, or chrony): TLS, ACME and alert times need a right clock');
    expect(text).toContain('9 ok, 1 warning(s), 0 failure(s)');
    expect(JSON.parse(formatDoctor(report, 'json'))).toEqual(report);
  });
});

const gpuNode = { metadata: { name: 'rtx', labels: { 'nvidia.com/gpu.present': 'true' } }, status: { allocatable: { 'nvidia.com/gpu': '2' } } };
const K3S: FakeHost = { ...HEALTHY, kubeNodes: [{ metadata: { name: 'homelab' } }, gpuNode], runtimeClass: true, argocd: true };

describe('platform doctor for k3s', () => {

  it('a ready cluster: both nodes registered, the GPU node labelled and advertising, the RuntimeClass, ArgoCD', () => {
    const platform = reference();
    const report = runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: fakeBin(K3S) }), 'k3s');
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['k3s-nodes', 'ok'], ['k3s-gpu-label', 'ok'], ['k3s-runtime', 'ok'], ['argocd', 'ok'],
      ['nvidia-driver', 'ok'], ['gpu-count', 'ok'], ['gpu-vram', 'ok'], ['disk', 'ok'], ['time-sync', 'ok'], ['dns', 'ok'],
    ]);
    expect(byId(report.checks)['k3s-gpu-label']?.message).toBe('rtx is labelled nvidia.com/gpu.present=true and advertises 2 nvidia.com/gpu');
    expect(byId(report.checks).disk?.message).toContain('(local-path claims)');
  });

  it('a cluster that is not ready says what is missing and how to add it', () => {
    const platform = reference();
    const bin = fakeBin({ ...K3S, kubeNodes: [{ metadata: { name: 'rtx' } }], runtimeClass: false, argocd: false });
    const checks = byId(runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: bin }), 'k3s').checks);
    expect(checks['k3s-nodes']).toMatchObject({ status: 'fail', message: 'not in the cluster: homelab (cluster nodes: rtx)' });
    expect(checks['k3s-gpu-label']).toMatchObject({ status: 'fail', fix: 'kubectl label node rtx nvidia.com/gpu.present=true' });
    expect(checks['k3s-runtime']?.status).toBe('fail');
    expect(checks.argocd).toMatchObject({ status: 'fail', message: 'ArgoCD is not installed in argocd' });
    const none = runDoctor(platform, doctorNode(platform, 'homelab'), new LocalHost({ PATH: fakeBin({ absent: ['kubectl'] }) }), 'k3s');
    expect(none.checks[0]).toMatchObject({ id: 'k3s', status: 'fail', message: 'kubectl is not installed: no k3s here' });
  });
});

describe('platform doctor reads the host in one session', () => {
  const HEALTHY_COMMANDS = [
    'docker version --format {{.Server.Version}}',
    'docker compose version --short',
    'nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits',
    'docker info --format {{json .Runtimes}}',
    'docker info --format {{.DockerRootDir}}',
    'df -P -k /var/lib/docker',
    'ss -H -l -n -t',
    'ss -H -l -n -u',
    'timedatectl show -p NTPSynchronized --value',
  ];

  it('a local run starts one shell, and every command of every check runs in it', () => {
    const platform = reference();
    const bin = fakeBin(HEALTHY);
    const report = runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: bin }));
    // Every command had the same parent: one shell ran them all (each runs in it directly, no subshell).
    const parents = logLines(join(bin, 'parents.log'));
    expect(parents.length).toBe(calls(bin).length);
    expect(new Set(parents).size).toBe(1);
    expect(Number(parents[0])).not.toBe(process.pid);
    expect(report.checks.every((c) => c.status === 'ok')).toBe(true);
    // Every site name in one lookup: they all resolve, so none is looked up alone.
    const sites = siteNames(platform);
    expect(calls(bin)).toEqual([...HEALTHY_COMMANDS, `getent hosts ${sites.join(' ')}`]);
  });

  it('looks every site name up at once, and each alone only when that fails, to name the ones that do not resolve', () => {
    const platform = reference();
    const sites = siteNames(platform);
    const missing = [sites[1], sites[4]] as string[];
    const bin = fakeBin({ ...HEALTHY, unresolvable: missing });
    const dns = byId(runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: bin })).checks).dns;
    expect(dns).toMatchObject({ status: 'warn', message: `2 of ${sites.length} site names do not resolve here (public): ${missing.join(', ')}` });
    expect(calls(bin).filter((c) => c.startsWith('getent'))).toEqual([`getent hosts ${sites.join(' ')}`, ...sites.map((site) => `getent hosts ${site}`)]);
    // The lookups of their own ran in the same session.
    expect(new Set(logLines(join(bin, 'parents.log'))).size).toBe(1);
  });

  it('commands that wait for an earlier answer run in the same session, only when it came', () => {
    const platform = reference();
    // kubectl does not reach the cluster: the RuntimeClass and ArgoCD are not asked.
    const down = fakeBin({ ...K3S, kubeDown: true });
    const log = fakeSsh(down);
    const cluster = runDoctor(platform, doctorNode(platform, 'rtx'), new SshHost('rtx.lan', { PATH: down }), 'k3s');
    expect(cluster.checks[0]).toMatchObject({ id: 'k3s', status: 'fail', message: 'kubectl cannot reach the cluster: The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?' });
    expect(calls(down).filter((c) => c.startsWith('kubectl'))).toEqual(['kubectl get nodes -o json']);
    expect(logLines(log)).toHaveLength(1);
    const up = fakeBin(K3S);
    runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: up }), 'k3s');
    expect(calls(up).filter((c) => c.startsWith('kubectl'))).toEqual(['kubectl get nodes -o json', 'kubectl get runtimeclass nvidia -o name', 'kubectl get deployment argocd-server -n argocd -o name']);
    // No NVIDIA driver: Docker is not asked for its runtimes.
    const noDriver = fakeBin({ ...HEALTHY, absent: ['nvidia-smi'] });
    const checks = byId(runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: noDriver })).checks);
    expect(checks['nvidia-runtime']).toBeUndefined();
    expect(calls(noDriver)).not.toContain('docker info --format {{json .Runtimes}}');
    // storage.root (bind mode) does not exist yet: df walks up to the nearest folder that does, and stops there.
    const bindPlatform = buildPlatform(loadFixture('valid', 'rtx3060'));
    const bind = fakeBin({ ...HEALTHY, noSuchFolders: ['/cold-storage'] });
    const bindLog = fakeSsh(bind);
    const bindNode = bindPlatform.deployedNodes[0] as Parameters<typeof runDoctor>[1];
    const disk = byId(runDoctor(bindPlatform, bindNode, new SshHost('rtx.lan', { PATH: bind })).checks).disk;
    expect(disk?.message).toMatch(/^1907\.3 GB free on \/ \(storage\.root\), the volumes of this node need \d+ GB$/);
    expect(calls(bind).filter((c) => c.startsWith('df'))).toEqual(['df -P -k /cold-storage', 'df -P -k /']);
    expect(logLines(bindLog)).toHaveLength(1);
  });

  it("Docker's root folder moved by data-root costs a second session, which measures that folder", () => {
    const platform = reference();
    const bin = fakeBin({ ...HEALTHY, dockerRoot: '/srv/docker' });
    const log = fakeSsh(bin);
    const checks = byId(runDoctor(platform, doctorNode(platform, 'rtx'), new SshHost('rtx.lan', { PATH: bin })).checks);
    expect(checks.disk?.message).toMatch(/^1907\.3 GB free on \/srv\/docker \(Docker volumes\), the volumes of this node need \d+ GB$/);
    expect(logLines(log)).toHaveLength(2);
    expect(calls(bin).filter((c) => c.startsWith('df'))).toEqual(['df -P -k /var/lib/docker', 'df -P -k /srv/docker']);
  });

  it('a command that hangs ends with the time limit: its check says which, the checks before it keep their answers', () => {
    const platform = reference();
    const bin = fakeBin({ ...HEALTHY, hangs: 'timedatectl' });
    // 3 s: room for the commands before the hung one on a busy machine.
    const started = Date.now();
    const report = runDoctor(platform, doctorNode(platform, 'rtx'), new LocalHost({ PATH: bin }), 'compose', { timeLimitMs: 3000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    const checks = byId(report.checks);
    for (const id of ['docker', 'compose', 'nvidia-driver', 'gpu-count', 'gpu-vram', 'nvidia-runtime', 'disk', 'ports']) expect(checks[id]?.status, id).toBe('ok');
    expect(checks['time-sync']).toEqual({
      id: 'time-sync',
      status: 'warn',
      message: "clock sync not checked: `timedatectl show -p NTPSynchronized --value` did not finish within the doctor's 3 s",
      fix: 'run that command on the node to see what it waits for',
    });
    expect(checks.dns).toMatchObject({ status: 'warn', message: "the site names could not be looked up: not run: `timedatectl show -p NTPSynchronized --value` before it did not finish within the doctor's 3 s" });
    expect(calls(bin).some((c) => c.startsWith('getent'))).toBe(false);
    // The hung program ended with the session: gone, or a zombie waiting to be reaped. A SIGKILL
    // takes effect when the process next runs (state R until then), which on a busy machine can
    // be a moment after the kill: up to 5 s here; a sleep that was never killed stays S for 60 s.
    const pid = readFileSync(join(bin, 'hung.pid'), 'utf8').trim();
    const state = () => (existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] : 'gone');
    for (const deadline = Date.now() + 5000; !/^(gone|Z)$/.test(state() ?? '') && Date.now() < deadline; ) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    expect(state()).toMatch(/^(gone|Z)$/);
  });

  describe('the session script and its split', () => {
    /** Stand-ins that print their arguments (each ended by a NUL), or awkward bytes, or fail. */
    const bin = join(scratch, 'bin-session');
    mkdirSync(bin);
    const program = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    program('args', `printf '%s\\0' "$@"; printf '%s\\0' "$#" >&2`);
    // Marker-shaped lines (another session's boundary), NUL and invalid UTF-8 bytes, no last newline.
    const NOISE = '\nplatform-doctor-0123456789abcdef0123456789abcdef 0 0\nplatform-doctor-0123456789abcdef0123456789abcdef start\n\0\xff\xfe tail';
    program('noisy', `printf '\\nplatform-doctor-0123456789abcdef0123456789abcdef 0 0\\nplatform-doctor-0123456789abcdef0123456789abcdef start\\n\\000\\377\\376 tail'; printf 'err\\n\\n' >&2; exit 3`);
    program('exits-127', 'exit 127');
    const canary = join(scratch, 'canary');
    const HOSTILE = [
      "it's",
      '"double" and \\ backslash',
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `; touch ${canary}; #`,
      `a\nb\n; touch ${canary}\n`,
      `' ; touch ${canary} ; '`,
      '$HOME ${PATH} * ? [a] ~ | & > < !',
      '',
      ' spaced  out ',
      '-n',
      'é ✓ 日本',
    ];
    const hosts = (): [string, Host][] => {
      fakeSsh(bin);
      return [['local', new LocalHost({ PATH: bin })], ['ssh', new SshHost('rtx.lan', { PATH: bin })]];
    };

    it.each(hosts())('%s: each hostile word reaches the program as one argument, byte for byte, and none runs as code', (_, host) => {
      const probe: Probe = { argv: ['args', ...HOSTILE] };
      const result = host.session([probe], 10_000).get(probe);
      expect(result?.stdout).toBe(HOSTILE.map((w) => `${w}\0`).join(''));
      expect(result?.stderr).toBe(`${HOSTILE.length}\0`);
      expect(existsSync(canary)).toBe(false);
    });

    it.each(hosts())('%s: marker-shaped text, NUL and invalid UTF-8 in the output, exit codes, missing programs', (_, host) => {
      const probes: Probe[] = [{ argv: ['noisy'] }, { argv: ['no-such-program', '--version'] }, { argv: ['exits-127'] }, { argv: ['args', 'after'] }];
      const results = host.session(probes, 10_000);
      expect(results.get(probes[0] as Probe)).toEqual({ code: 3, stdout: Buffer.from(NOISE, 'latin1').toString('utf8'), stderr: 'err\n\n', missing: false });
      // Not installed: 127 and missing, without the shell's "not found" in its stderr.
      expect(results.get(probes[1] as Probe)).toEqual({ code: 127, stdout: '', stderr: '', missing: true });
      // Installed, and exits 127 itself: not missing.
      expect(results.get(probes[2] as Probe)).toEqual({ code: 127, stdout: '', stderr: '', missing: false });
      expect(results.get(probes[3] as Probe)).toEqual({ code: 0, stdout: 'after\0', stderr: '1\0', missing: false });
    });

    it('what a login shell prints before the session starts is dropped; a session cut short says where', () => {
      const probes: Probe[] = [{ argv: ['a'] }, { argv: ['b'] }, { argv: ['c'] }];
      const boundary = 'platform-doctor-feedbeef';
      const results = splitSession(probes, boundary, {
        stdout: Buffer.from(`motd from .bashrc\n${boundary} start\nA\n${boundary} 0 0\npartial`),
        stderr: Buffer.from(`${boundary} start\n\n${boundary} 0\nhalf an error`),
        stoppedEarly: "did not finish within the doctor's 30 s",
      });
      expect(results.get(probes[0] as Probe)).toEqual({ code: 0, stdout: 'A', stderr: '', missing: false });
      expect(results.get(probes[1] as Probe)).toEqual({ code: 124, stdout: 'partial', stderr: 'half an error', missing: false, cutShort: "`b` did not finish within the doctor's 30 s" });
      expect(results.get(probes[2] as Probe)?.cutShort).toBe("not run: `b` before it did not finish within the doctor's 30 s");
    });
  });
});

describe('platform doctor on the machine the tests run on', () => {
  it('runs every check and reports what is absent or idle here instead of failing to run', () => {
    const platform = reference();
    for (const [node, target] of [['homelab', 'compose'], ['rtx', 'compose'], ['rtx', 'k3s']] as const) {
      const report = runDoctor(platform, doctorNode(platform, node), new LocalHost(), target);
      expect(report.checks.length).toBeGreaterThanOrEqual(4);
      for (const check of report.checks) {
        expect(['ok', 'warn', 'fail']).toContain(check.status);
        expect(check.message.length).toBeGreaterThan(0);
      }
      console.log(formatDoctor(report, 'text'));
    }
  });

  it('the built CLI exits 1 on a failure and 0 when every check passes; bad input exits 2', async () => {
    const cli = join(import.meta.dirname, '..', 'build', 'bin', 'platform.js');
    const healthy = spawnSync(process.execPath, [cli, 'doctor', '--node', 'rtx', '--format', 'json'], { encoding: 'utf8', env: { PATH: fakeBin(HEALTHY) } });
    expect(healthy.status, healthy.stderr).toBe(0);
    expect((JSON.parse(healthy.stdout) as { checks: CheckResult[] }).checks.every((c) => c.status === 'ok')).toBe(true);
    const broken = spawnSync(process.execPath, [cli, 'doctor', '--node', 'rtx'], { encoding: 'utf8', env: { PATH: fakeBin({ ...HEALTHY, runtimes: '{}' }) } });
    expect(broken.status, broken.stderr).toBe(1);
    expect(broken.stdout, broken.stderr).toContain('fail nvidia-runtime');
    // Bad input stops before any program runs: the same main in-process.
    const usage = await platformInProcess(['doctor']);
    expect([usage.exitCode, usage.stderr]).toEqual([2, 'error: the config has 2 nodes (homelab, rtx): say which with --node']);
  });
});
