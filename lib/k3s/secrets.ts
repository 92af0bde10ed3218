import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { GENERATED_BY } from '../output/yaml.js';
import { markdownTable } from '../output/markdown.js';
import { backupSecretUsage } from '../services/backup.js';
import { secretObjectName } from './names.js';
import { compareText } from '../output/order.js';

/*
 * The Secrets of the k3s target: which Secret object holds which value in which namespace, its
 * README and the script that creates or seals them. Read by the k3s renderer (charts/) and by
 * `platform secrets` (the hand-over), so it lives here, free of cdk8s.
 */

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
  return [...byKey.values()].sort((a, b) => compareText(a.namespace, b.namespace) || compareText(a.secret.name, b.secret.name));
}


export function renderSecretsReadme(platform: Platform): string {
  const secrets = k3sSecrets(platform);
  const sealed = platform.config.k3s.sealedSecretsPath;
  return `# Secrets of the k3s target

Rendered by \`platform synth\`. Pods read these with \`secretKeyRef\`; the Secrets themselves are
never rendered and never committed with values. Each is one Kubernetes Secret holding one key,
created in every namespace whose pods use it.

${markdownTable(
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
