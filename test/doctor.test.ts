import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { UsageError } from '../lib/config/errors.js';
import { doctorNode, formatDoctor, runDoctor, volumeBudgetGb, type CheckResult } from '../lib/doctor/doctor.js';
import { LocalHost, shellQuote, SshHost } from '../lib/doctor/host.js';
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
  /** `kubectl get nodes -o json`. */
  kubeNodes?: unknown[];
  runtimeClass?: boolean;
  argocd?: boolean;
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

/** A folder of stand-in programs for `fake`; its path is the whole PATH. */
function fakeBin(fake: FakeHost): string {
  const dir = join(scratch, `bin-${(hosts += 1)}`);
  mkdirSync(dir);
  const script = (name: string, body: string) => {
    if (fake.absent?.includes(name)) return;
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  const q = (text: string | undefined) => shellQuote(text ?? '');
  script(
    'docker',
    [
      `if [ "$1" = version ]; then ${fake.dockerDown ? 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1' : `printf '%s\\n' ${q(fake.dockerVersion)}`}; exit 0; fi`,
      `if [ "$1 $2" = "compose version" ]; then printf '%s\\n' ${q(fake.composeVersion)}; exit 0; fi`,
      `if [ "$1 $3" = "info {{json .Runtimes}}" ]; then printf '%s\\n' ${q(fake.runtimes)}; exit 0; fi`,
      `if [ "$1 $3" = "info {{.DockerRootDir}}" ]; then echo /var/lib/docker; exit 0; fi`,
      'echo "unexpected: docker $*" >&2; exit 64',
    ].join('\n'),
  );
  script('nvidia-smi', `printf '%s\\n' ${q(fake.gpus)}`);
  script('df', `echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'; echo "/dev/nvme0n1p2 3000000000 1000 ${fake.dfAvailableKb ?? 0} 1% /"`);
  script('ss', `case "$*" in *-t*) printf '%s\\n' ${q(fake.ssTcp)};; *) printf '%s\\n' ${q(fake.ssUdp)};; esac`);
  script('timedatectl', `printf '%s\\n' ${q(fake.ntp)}`);
  script('ip', `for i in ${(fake.interfaces ?? []).join(' ')}; do [ "$4" = "$i" ] && { echo "2: $i: <BROADCAST,MULTICAST,UP>"; exit 0; }; done; echo "Device \\"$4\\" does not exist." >&2; exit 1`);
  script('getent', fake.resolvable ? 'echo "203.0.113.7 $2"' : 'exit 2');
  script(
    'kubectl',
    [
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
const byId = (checks: readonly CheckResult[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

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

  it('--ssh hands each command, quoted, to ssh in batch mode and reads the same answers', () => {
    const bin = fakeBin(HEALTHY);
    const log = join(scratch, 'ssh.log');
    // The stand-in ssh: records its arguments, then runs the remote command line here.
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${shellQuote(log)}\nwhile [ "$1" != -- ]; do shift; done; shift\nexec /bin/sh -c "$1"\n`);
    chmodSync(join(bin, 'ssh'), 0o755);
    const platform = reference();
    const node = doctorNode(platform, 'rtx');
    const remote = runDoctor(platform, node, new SshHost('admin@rtx.lan', { PATH: bin }));
    const local = runDoctor(platform, node, new LocalHost({ PATH: bin }));
    expect(remote.checks).toEqual(local.checks);
    expect(remote.host).toBe('ssh admin@rtx.lan');
    const calls = spawnSync('cat', [log], { encoding: 'utf8' }).stdout.split('\n');
    expect(calls).toContain("-o BatchMode=yes -o ConnectTimeout=10 admin@rtx.lan -- docker info --format '{{json .Runtimes}}'");
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

describe('platform doctor for k3s', () => {
  const gpuNode = { metadata: { name: 'rtx', labels: { 'nvidia.com/gpu.present': 'true' } }, status: { allocatable: { 'nvidia.com/gpu': '2' } } };
  const K3S: FakeHost = { ...HEALTHY, kubeNodes: [{ metadata: { name: 'homelab' } }, gpuNode], runtimeClass: true, argocd: true };

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
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('fail nvidia-runtime');
    // Bad input stops before any program runs: the same main in-process.
    const usage = await platformInProcess(['doctor']);
    expect([usage.exitCode, usage.stderr]).toEqual([2, 'error: the config has 2 nodes (homelab, rtx): say which with --node']);
  });
});
