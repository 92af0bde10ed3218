import type { Node } from '../lib/model/node.js';
import type { Service } from '../lib/model/service.js';
import { workloadKind } from '../lib/k3s/workload-kind.js';
import { gpuKeys } from '../lib/k3s/names.js';
import { markdownTable } from '../lib/output/markdown.js';
import { childApps, devicePluginValues } from './argocd-chart.js';
import type { K3sContext } from './context.js';
import { multusNodes, multusZones, whereaboutsRange } from './vlans.js';

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

/** What the GPU nodes need before k3s starts, per vendor present (NVIDIA's wording unchanged when alone). */
function gpuDriverStep(gpuNodes: readonly Node[]): string {
  const nvidia = `install the NVIDIA driver and container toolkit before k3s starts, so k3s finds the
   \`nvidia\` runtime (it ships the \`nvidia\` RuntimeClass itself)`;
  const amd = `install the amdgpu driver (ROCm's amdgpu-install; \`/dev/kfd\` must exist); the
   \`amd-gpu-device-plugin\` Application advertises their \`amd.com/gpu\` (whole GPUs: AMD's plugin does not time-slice)`;
  const hasNvidia = gpuNodes.some((n) => n.gpuVendor === 'nvidia');
  const hasAmd = gpuNodes.some((n) => n.gpuVendor === 'amd');
  if (hasNvidia && hasAmd) return `on NVIDIA nodes ${nvidia}; on AMD nodes ${amd}`;
  return hasAmd ? amd : nvidia;
}

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
    const keys = gpuKeys(n.gpuVendor ?? 'nvidia');
    const commands = [`kubectl label node ${n.name} ${keys.label}=true`];
    // A server also runs CoreDNS and ArgoCD, which do not tolerate the taint: only dedicated GPU nodes get it.
    if (n.role === 'gpu') commands.push(`kubectl taint node ${n.name} ${keys.resource}=present:NoSchedule`);
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
    ? `2. GPU nodes: ${gpuDriverStep(gpuNodes)}. Then label and taint them:
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

${markdownTable(
  ['wave', 'Application', 'source'],
  apps.map((a) => [
    String(a.wave),
    a.name,
    'folder' in a.source ? `\`${a.source.folder}\`` : 'repoPath' in a.source ? `\`${a.source.repoPath}\`` : `Helm ${a.source.helm.chart} ${a.source.helm.version}`,
  ]),
)}

## Workloads
${markdownTable(['service', 'stack', 'namespace', 'kind', 'node'], workloads)}
${
  external.length > 0
    ? `\nOn machines outside the cluster (reached through a Service with a manual EndpointSlice to their
LAN address; NetworkPolicies allow exactly that address):\n\n${markdownTable(
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
