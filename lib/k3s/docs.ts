import { childApps, devicePluginValues } from '../../charts/argocd-chart.js';
import type { K3sContext } from '../../charts/context.js';
import { workloadKind } from '../../charts/service-workload.js';
import { backupSecretUsage } from '../services/backup.js';
import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { multusNodes, multusZones, whereaboutsRange } from '../../charts/vlans.js';
import type { Service } from '../model/service.js';
import { GPU_PRESENT_LABEL, GPU_RESOURCE, secretObjectName } from './names.js';
import { GENERATED_BY } from '../output/yaml.js';

/** Every Kubernetes Secret the pods read: one per platform secret and namespace that uses it. */
export function k3sSecrets(platform: Platform): { namespace: string; secret: Secret; users: string[] }[] {
  const byKey = new Map<string, { namespace: string; secret: Secret; users: string[] }>();
  for (const service of platform.services) {
    if (service.external) continue;
    for (const secret of service.secrets) {
      const key = `${service.zone.namespace}/${secret.name}`;
      const entry = byKey.get(key) ?? { namespace: service.zone.namespace, secret, users: [] };
      entry.users.push(service.name);
      byKey.set(key, entry);
    }
  }
  for (const { namespace, secrets } of backupSecretUsage(platform)) {
    for (const secret of secrets) {
      const key = `${namespace}/${secret.name}`;
      const entry = byKey.get(key) ?? { namespace, secret, users: [] };
      if (!entry.users.includes('backup')) entry.users.push('backup');
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.secret.name.localeCompare(b.secret.name));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderSecretsReadme(platform: Platform): string {
  const secrets = k3sSecrets(platform);
  const sealed = platform.config.k3s.sealedSecretsPath;
  return `# Secrets of the k3s target

Rendered by \`platform synth\`. Pods read these with \`secretKeyRef\`; the Secrets themselves are
never rendered and never committed with values. Each is one Kubernetes Secret holding one key,
created in every namespace whose pods use it.

${table(
  ['namespace', 'Secret', 'key', 'used by', 'what', 'how to make a value'],
  secrets.map((s) => [s.namespace, secretObjectName(s.secret), s.secret.name, s.users.join(', '), s.secret.description, `\`${s.secret.howToGenerate.replace(/\|/g, '\\|')}\``]),
)}

## Create them

Export each variable in your shell (the same names as the Compose \`.env\` files), then:

\`\`\`sh
./create-secrets.sh          # kubectl apply, straight into the cluster
./create-secrets.sh seal     # SealedSecrets for git (needs kubeseal and the controller)
\`\`\`

The script reads values from the environment and pipes them to kubectl on stdin: they never
appear in its arguments, its output or a file outside the sealed folder.
${
  sealed
    ? `\nSealed secrets are written to \`${sealed}\` (\`k3s.sealedSecretsPath\`), which the
\`sealed-secrets\` Application syncs before the stacks. Keep that folder outside the rendered output:
\`platform synth\` replaces \`dist/k3s\` on every run.\n`
    : `\nTo keep SealedSecrets in git, set \`k3s.sealedSecretsPath\` (a folder outside \`dist/k3s\`): an
Application then syncs it before the stacks, and \`seal\` writes there.\n`
}`;
}

/**
 * The sealing script writes where the `sealed-secrets` Application reads: `k3s.sealedSecretsPath`
 * from the repository root, whatever folder it is run from. The root is found from the script's own
 * place, `<k3s.argocd.path>/secrets/`, never from the working directory.
 */
export function renderSecretsScript(platform: Platform): string {
  const sealed = platform.config.k3s.sealedSecretsPath?.replace(/^\.\/+/, '').replace(/\/+$/, '');
  const { argocd } = platform.config.k3s;
  const depth = argocd.path.split('/').filter((part) => part !== '' && part !== '.').length + 1;
  const upToRoot = Array.from({ length: depth }, () => '..').join('/');
  const lines = k3sSecrets(platform).map((s) => `make_secret ${s.namespace} ${secretObjectName(s.secret)} ${s.secret.name}`);
  return `#!/bin/sh
# Secrets of the k3s target: ${GENERATED_BY}
# Values come from the environment; none is ever written here. See README.md beside this script.
set -eu

mode="\${1:-apply}"
case "$mode" in
  apply | seal) ;;
  *) echo "usage: $0 [apply|seal]" >&2; exit 2 ;;
esac
# The repository root, whatever folder this runs from: git's, else ${argocd.path}/secrets/ upwards.
script_dir=$(cd "$(dirname "$0")" && pwd)
repo_root=$(git -C "$script_dir" rev-parse --show-toplevel 2> /dev/null || (cd "$script_dir/${upToRoot}" && pwd))
sealed_dir="\${SEALED_DIR:-${sealed ? `$repo_root/${sealed}` : ''}}"

# make_secret <namespace> <secret> <variable>: one Secret with one key, the value read from $<variable>.
make_secret() {
  namespace=$1 name=$2 key=$3
  value=$(printenv "$key" || true)
  if [ -z "$value" ]; then
    echo "error: $key is not set; export it first (see README.md for how to make one)" >&2
    exit 1
  fi
  manifest=$(printf '%s' "$value" | kubectl create secret generic "$name" --namespace "$namespace" \\
    --from-file="$key=/dev/stdin" --dry-run=client --output yaml)
  if [ "$mode" = seal ]; then
    if [ -z "$sealed_dir" ]; then
      echo "error: set SEALED_DIR (or k3s.sealedSecretsPath in platform.yaml)" >&2
      exit 1
    fi
    mkdir -p "$sealed_dir"
    printf '%s\\n' "$manifest" | kubeseal --format yaml > "$sealed_dir/$namespace-$name.yaml"
    echo "sealed $namespace/$name"
  else
    printf '%s\\n' "$manifest" | kubectl apply --filename - > /dev/null
    echo "applied $namespace/$name"
  fi
}

${lines.join('\n')}
`;
}

/**
 * The images the platform builds (ComfyUI, Mochi, CogVideoX): no registry has them, so they are
 * built on the node that runs them and imported into k3s' containerd. Their `localhost/` names
 * make a node without the import fail to pull instead of fetching a look-alike.
 */
function builtImagesStep(built: readonly Service[]): string {
  const commands = built.flatMap((s) => [
    `# on ${s.homeNode.name}`,
    `docker build -t ${s.image} ${BUILD_CONTEXTS_FOLDER}/${s.name}`,
    `docker save ${s.image} | sudo k3s ctr images import -`,
  ]);
  return `   Images built here: ${built.map((s) => `\`${s.name}\``).join(', ')} have no published image. Build each on its node
   from \`${BUILD_CONTEXTS_FOLDER}/<service>/\` and import it into k3s (or push it to your registry and set
   \`images.<service>\` to that name):
   \`\`\`sh
   ${commands.join('\n   ')}
   \`\`\``;
}

/** Where the k3s tree keeps the build contexts of the images the platform builds. */
export const BUILD_CONTEXTS_FOLDER = 'images';

export function renderK3sReadme(context: K3sContext, notes: readonly string[]): string {
  const { platform } = context;
  const { argocd } = platform.config.k3s;
  const apps = childApps(context);
  const gpuNodes = context.gpuSharing.map((s) => s.node);
  const { nodeConfigs } = devicePluginValues(context);
  const defaultConfig = context.gpuSharing[0] ? nodeConfigs.get(context.gpuSharing[0].node.name) : undefined;
  const external = platform.services.filter((s) => s.external);
  const built = platform.services.filter((s) => !s.external && s.build);
  const entries = platform.services.filter((s) => !s.external && s.ports.some((p) => p.entry));
  const workloads = platform.services
    .filter((s) => !s.external)
    .map((s) => [s.name, s.stackName, s.zone.namespace, workloadKind(s), s.perNode ? s.nodes.map((n) => n.name).join(', ') : s.homeNode.name]);

  const labelCommands = gpuNodes.flatMap((n) => {
    const commands = [`kubectl label node ${n.name} ${GPU_PRESENT_LABEL}=true`];
    // A server also runs CoreDNS and ArgoCD, which do not tolerate the taint: only dedicated GPU nodes get it.
    if (n.role === 'gpu') commands.push(`kubectl taint node ${n.name} ${GPU_RESOURCE}=present:NoSchedule`);
    const config = nodeConfigs.get(n.name);
    if (config && config !== defaultConfig) commands.push(`kubectl label node ${n.name} nvidia.com/device-plugin.config=${config}`);
    return commands;
  });

  const vlanNodes = multusNodes(platform);
  const vlanStep =
    vlanNodes.length > 0
      ? `2b. VLAN sub-interfaces for Multus: macvlan attaches only to an interface that exists, and nothing in
   the cluster creates it. On ${vlanNodes.map((n) => `\`${n.name}\` (NIC \`${n.networkInterface}\`)`).join(', ')}, copy
   \`nodes/<node>/vlans.sh\` to \`/usr/local/sbin/platform-vlans.sh\` and run it at every boot before k3s
   (the NIC is \`nodes.<node>.interface\` of platform.yaml; \`ip -br link\` lists yours):
   \`\`\`ini
   # /etc/systemd/system/platform-vlans.service, then: systemctl enable --now platform-vlans
   [Unit]
   Before=k3s.service k3s-agent.service
   After=network-pre.target
   [Service]
   Type=oneshot
   ExecStart=/bin/sh /usr/local/sbin/platform-vlans.sh
   RemainAfterExit=yes
   [Install]
   WantedBy=multi-user.target
   \`\`\`
   The switch port of each node must carry the VLANs tagged.
`
      : '';
  const multusNote =
    multusZones(platform).length > 0
      ? `\nMultus zones (${multusZones(platform)
          .map((z) => `\`${z.name}\` on VLAN ${z.vlan}, pod addresses ${whereaboutsRange(z).range_start}-${whereaboutsRange(z).range_end}`)
          .join('; ')}): **NetworkPolicies do not cover the VLAN interface.** They filter the pods' primary
interface only; on the VLAN a pod reaches, and is reached by, every host of that VLAN, and only the
router's firewall between VLANs stands in the way. That is why an \`isolated\` zone cannot use Multus.
The lower half of each subnet (the router, the nodes, your DHCP pool) is never handed to a pod.
`
      : '';
  return `# k3s manifests for ${platform.domain}

Rendered by \`platform synth\` from the platform config (edit the config, not these files). ArgoCD syncs
them from \`${argocd.repoURL}\` at \`${argocd.targetRevision}\`, folder \`${argocd.path}\`.

## Layout
- \`argocd/root.yaml\`: the app-of-apps. It syncs this \`argocd/\` folder: the child Applications in
  \`argocd/apps/\` and \`argocd/argocd-cm.yaml\` (the Application health check that makes waves wait).
- \`apps/<name>/\`: one folder per Application, one file per object.
- \`secrets/\`: the Secrets the pods read, by name only, and a script that creates or seals them.

## Prepare the cluster
1. k3s without Traefik (Caddy is the edge): on the server
   \`curl -sfL https://get.k3s.io | sh -s - server --disable traefik\`, agents joined as usual.
   Node names must be the node names of platform.yaml (${[...platform.nodes.values()].filter((n) => n.deployed).map((n) => `\`${n.name}\``).join(', ')}): pods are placed by \`kubernetes.io/hostname\`.
${
  gpuNodes.length > 0
    ? `2. GPU nodes: install the NVIDIA driver and container toolkit before k3s starts, so k3s finds the
   \`nvidia\` runtime (it ships the \`nvidia\` RuntimeClass itself). Then label and taint them:
   \`\`\`sh
   ${labelCommands.join('\n   ')}
   \`\`\`
`
    : '2. No GPU node is deployed: nothing to label.\n'
}${vlanStep}${built.length > 0 ? `${builtImagesStep(built)}
` : ''}3. ArgoCD in namespace \`${argocd.namespace}\`, with read access to the repository.
4. Secrets: export the values and run \`secrets/create-secrets.sh\` (see \`secrets/README.md\`).
   Pods that read a missing Secret wait in \`CreateContainerConfigError\` until it exists.

## Bootstrap
\`\`\`sh
kubectl apply -f ${argocd.path}/argocd/root.yaml
\`\`\`
From then on, ArgoCD follows git: commit the output of \`platform synth\` and it syncs.

## Applications and sync waves
A stack syncs after every stack it connects to; stacks that reach each other share a wave. The
root waits for every Application of a wave to be Healthy before the next. A failed sync is retried
for the same commit (30 s backoff doubling to 10 minutes, without end), so a model download that
fails on a flaky line is tried again. A wave that stays Progressing is not a failed sync (a pod that
cannot start, a claim no pod uses): \`argocd app get <app>\` names the object that waits; fix the
cause in platform.yaml and commit, and the root moves on. Deleting a child Application deletes what it deployed
(\`resources-finalizer\`), except namespaces and claims (\`Delete=false\`); deleting the root
leaves the children. \`argocd/argocd-cm.yaml\` also sets \`resource.exclusions\` to ArgoCD's
defaults without EndpointSlice, so the EndpointSlices written here are applied (ArgoCD 3.x
excludes them by default); put your own exclusions there too, as that key is replaced whole.

${table(
  ['wave', 'Application', 'source'],
  apps.map((a) => [
    String(a.wave),
    a.name,
    'folder' in a.source ? `\`${a.source.folder}\`` : 'repoPath' in a.source ? `\`${a.source.repoPath}\`` : `Helm ${a.source.helm.chart} ${a.source.helm.version}`,
  ]),
)}

## Workloads
${table(['service', 'stack', 'namespace', 'kind', 'node'], workloads)}
${
  external.length > 0
    ? `\nOn machines outside the cluster (reached through a Service with a manual EndpointSlice to their
LAN address; NetworkPolicies allow exactly that address):\n\n${table(
        ['service', 'namespace', 'address'],
        external.map((s) => [s.name, s.zone.namespace, s.nodes.map((n) => `${n.address}:${s.ports.map((p) => p.port).join(',')}`).join(' ')]),
      )}\n`
    : ''
}
## Entry points
${entries.map((s) => `- \`${s.name}-entry\` (LoadBalancer, ServiceLB): ${s.ports.filter((p) => p.entry).map((p) => `${p.port}/${p.protocol}`).join(', ')}`).join('\n')}

ServiceLB binds these ports on the nodes; forward them from the router to ${[...new Set(entries.flatMap((s) => s.nodes))].map((n) => `${n.name} (${n.address})`).join(', ')}.

## Networks
Every zone namespace denies all traffic by default and allows DNS to CoreDNS; each declared
connection then gets an egress rule at the consumer and an ingress rule at the provider, on the
dialled port only. Internet egress (80/443 outside private ranges) is open only to the services that
declare it. See \`apps/network-policies/\`.
${multusNote}
## Storage
Every claim uses StorageClass \`${platform.config.k3s.storageClass}\` and is kept when its Application
is deleted (\`Delete=false\`).
${notes.length > 0 ? `\n## GPU sharing\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
}
