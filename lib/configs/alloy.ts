import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader } from '../output/yaml.js';

/** Alloy config: discover this node's containers through the Docker socket, push their logs to Loki. */
export function renderAlloyConfig(resolve: Resolver, loki: Service): string {
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

loki.write "default" {
  endpoint {
    url = "${resolve.url(loki, 3100, '/loki/api/v1/push')}"
  }
  external_labels = { node = "${resolve.node.name}" }
}
`;
}
