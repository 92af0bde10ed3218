import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import type { LokiGateway } from '../services/alloy.js';
import { generatedHeader } from '../output/yaml.js';

/**
 * Alloy config: discover this node's containers (through the Docker socket under Compose, from the
 * kubelet's log folder under k3s) and push their logs to Loki, labelled with the node.
 */
export function renderAlloyConfig(resolve: Resolver, loki: Service, gateway?: LokiGateway): string {
  return resolve.target === 'k3s' ? renderPodLogsConfig(resolve, loki) : renderDockerLogsConfig(resolve, loki, gateway);
}

function lokiWrite(resolve: Resolver, loki: Service, node: string, gateway?: LokiGateway): string {
  // Under Compose an instance on another node than Loki pushes through the authenticated gateway.
  const viaGateway = gateway !== undefined && resolve.target === 'compose' && !loki.nodes.includes(resolve.node);
  if (!viaGateway) {
    return `loki.write "default" {
  endpoint {
    url = "${resolve.url(loki, 3100, '/loki/api/v1/push')}"
  }
  external_labels = { node = ${node} }
}
`;
  }
  const address = resolve.address(gateway.via, gateway.port);
  return `loki.write "default" {
  endpoint {
    url = "https://${address.host}:${address.port}/loki/api/v1/push"

    basic_auth {
      username = "${gateway.user}"
      password = sys.env("LOKI_PUSH_PASSWORD")
    }

    // The gateway's certificate comes from Caddy's internal CA; the password is what admits Alloy.
    tls_config {
      insecure_skip_verify = true
    }
  }
  external_labels = { node = ${node} }
}
`;
}

/** One DaemonSet config for every node: the node name comes from the pod's NODE_NAME (downward API). */
function renderPodLogsConfig(resolve: Resolver, loki: Service): string {
  const label = (name: string, group: number) => `  rule {
    source_labels = ["__path__"]
    regex         = "/var/log/pods/([^_]+)_([^_]+)_[^/]+/([^/]+)/.*"
    target_label  = "${name}"
    replacement   = "$${group}"
  }
`;
  return `${generatedHeader('Alloy config', '//')}local.file_match "pods" {
  path_targets = [{ "__path__" = "/var/log/pods/*/*/*.log" }]
}

discovery.relabel "pods" {
  targets = local.file_match.pods.targets

${label('namespace', 1)}
${label('pod', 2)}
${label('container', 3)}}

loki.source.file "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  stage.cri {}
  forward_to = [loki.write.default.receiver]
}

${lokiWrite(resolve, loki, 'sys.env("NODE_NAME")')}`;
}

function renderDockerLogsConfig(resolve: Resolver, loki: Service, gateway?: LokiGateway): string {
  return `${generatedHeader('Alloy config', '//')}discovery.docker "containers" {
  host = "unix:///var/run/docker.sock"
}

discovery.relabel "containers" {
  targets = []

  rule {
    source_labels = ["__meta_docker_container_name"]
    regex         = "/(.*)"
    target_label  = "container"
  }

  rule {
    source_labels = ["__meta_docker_container_label_com_docker_compose_project"]
    target_label  = "stack"
  }
}

loki.source.docker "containers" {
  host          = "unix:///var/run/docker.sock"
  targets       = discovery.docker.containers.targets
  relabel_rules = discovery.relabel.containers.rules
  forward_to    = [loki.write.default.receiver]
}

${lokiWrite(resolve, loki, `"${resolve.node.name}"`, gateway)}`;
}
