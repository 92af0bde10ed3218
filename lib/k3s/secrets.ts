import type { Platform } from '../model/platform.js';
import { isShellVariable, type Secret } from '../model/secret.js';
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

/** What one Secret manifest holds: one value, base64-encoded, under its key. */
export interface SecretManifestFields {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  /** The value, base64-encoded (RFC 4648, no line breaks). */
  readonly data: string;
}

/**
 * One Secret manifest, laid out as `kubectl create secret generic NAME --namespace NS
 * --from-file=KEY=... --dry-run=client --output yaml` prints it: kubectl's YAMLPrinter calls
 * sigs.k8s.io/yaml's Marshal (kubernetes staging/src/k8s.io/cli-runtime/pkg/printers/yaml.go:80 at
 * commit 3cfd18d0), which goes through JSON, so keys are sorted and the empty type is left out, and
 * an unset metav1.Time marshals as null (apimachinery pkg/apis/meta/v1/time.go, Time.MarshalJSON, at
 * commit 07e7e261). The one layout of both ways a Secret is made: create-secrets.sh prints it from
 * awk (awkPrintSecretManifest) and `platform secrets k3s` from here, so they give the same bytes.
 */
export function secretManifest({ namespace, name, key, data }: SecretManifestFields): string {
  return `apiVersion: v1\ndata:\n  ${key}: ${data}\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: ${name}\n  namespace: ${namespace}\n`;
}

/**
 * The awk statement of create-secrets.sh that prints one manifest after a "---" line: secretManifest
 * with each field a %s, given the awk expression of each field in the order the layout names them.
 */
function awkPrintSecretManifest(fields: Record<keyof SecretManifestFields, string>): string {
  const mark = (field: string) => `\u0000${field}\u0000`;
  const layout = secretManifest({ namespace: mark('namespace'), name: mark('name'), key: mark('key'), data: mark('data') });
  const order = [...layout.matchAll(/\u0000(\w+)\u0000/g)].map((m) => fields[m[1] as keyof SecretManifestFields]);
  const format = `---\n${layout}`.replace(/\u0000\w+\u0000/g, '%s').replaceAll('\n', '\\n');
  return `printf "${format}", ${order.join(', ')}`;
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

The script reads values from the environment (exported variables, as \`printenv\` sees them) and
writes every Secret's manifest in one awk, the value base64-encoded, piped to kubectl or kubeseal on
stdin: values never appear in its arguments, its output or a file outside the sealed folder. It
checks every variable before it applies or seals anything: when some are missing, one error names
each and nothing changes. \`apply\` sends all Secrets in one \`kubectl apply\`; \`seal\` writes one
SealedSecret per Secret, one kubeseal each.
${
  sealed
    ? `\nSealed secrets are written to \`${sealed}\` (\`k3s.sealedSecretsPath\`), which the
\`sealed-secrets\` Application syncs before the stacks. Keep that folder outside the rendered output:
\`platform synth\` replaces \`dist/k3s\` on every run.\n`
    : `\nTo keep SealedSecrets in git, set \`k3s.sealedSecretsPath\` (a folder outside \`dist/k3s\`): an
Application then syncs it before the stacks, and \`seal\` writes there.\n`
}`;
}

/** A namespace or Secret name as the script splits it: a DNS label. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A variable name the script names in its code (its list, awk's arguments and ENVIRON keys). */
const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * `create-secrets.sh`: every Secret, from the environment, applied with one `kubectl apply` or
 * sealed one file per Secret. Its header says why it is built the way it is.
 *
 * The sealing script writes where the `sealed-secrets` Application reads: `k3s.sealedSecretsPath`
 * from the repository root, whatever folder it is run from. The root is found from the script's own
 * place, `<k3s.argocd.path>/secrets/`, never from the working directory.
 *
 * The names land unquoted in the script's code (its list is split on spaces and "/", and awk
 * reads each variable by its name), so each is checked here, whatever validated it before: a name
 * outside these alphabets, or a variable the shell sets itself, is a bug, refused at render.
 */
export function renderSecretsScript(platform: Platform): string {
  const sealed = platform.config.k3s.sealedSecretsPath?.replace(/^\.\/+/, '').replace(/\/+$/, '');
  const { argocd } = platform.config.k3s;
  const depth = argocd.path.split('/').filter((part) => part !== '' && part !== '.').length + 1;
  const upToRoot = Array.from({ length: depth }, () => '..').join('/');
  const lines = k3sSecrets(platform).map((s) => {
    const name = secretObjectName(s.secret);
    for (const objectName of [s.namespace, name]) {
      if (!OBJECT_NAME.test(objectName)) throw new Error(`create-secrets.sh: "${objectName}" is not a Kubernetes name (a-z, 0-9, "-")`);
    }
    if (!VARIABLE_NAME.test(s.secret.name)) throw new Error(`create-secrets.sh: "${s.secret.name}" is not a shell variable name (A-Z, 0-9, "_")`);
    if (isShellVariable(s.secret.name)) throw new Error(`create-secrets.sh: "${s.secret.name}" is a variable the shell sets or reads itself`);
    return `make_secret ${s.namespace} ${name} ${s.secret.name}`;
  });
  const findRoot = sealed
    ? `
  # The repository root, whatever folder this runs from: git's, else ${argocd.path}/secrets/ upwards.
  script_dir=$(cd "$(dirname "$0")" && pwd)
  repo_root=$(git -C "$script_dir" rev-parse --show-toplevel 2> /dev/null || (cd "$script_dir/${upToRoot}" && pwd))
  sealed_dir="$repo_root/${sealed}"`
    : `
  echo "error: set SEALED_DIR (or k3s.sealedSecretsPath in platform.yaml)" >&2
  exit 1`;
  return `#!/bin/sh
# Secrets of the k3s target: ${GENERATED_BY}
# Values come from the environment; none is ever written here. See README.md beside this script.
#
# All or nothing: every variable is read and checked before anything is applied or sealed, and one
# error names each that is missing. One awk reads every value and writes every Secret's manifest,
# the value base64-encoded in it: no kubectl runs to make them, and a value is never in a shell
# variable (the shell holds only the encoded manifests), an argument, the output, or a file outside
# the sealed folder; the manifests reach kubectl and kubeseal through pipes. \`apply\` sends every
# Secret in ONE \`kubectl apply\` (one round trip to the API server, not one per Secret); \`seal\`
# writes one SealedSecret file per Secret, one kubeseal each.
set -eu

mode="\${1:-apply}"
case "$mode" in
  apply | seal) ;;
  *) echo "usage: $0 [apply|seal]" >&2; exit 2 ;;
esac
sealed_dir="\${SEALED_DIR:-}"
if [ "$mode" = seal ] && [ -z "$sealed_dir" ]; then${findRoot}
fi

# make_secret <namespace> <secret> <variable>: one Secret to make, with one key, its value $<variable>.
# The list below only names them; the work starts after its last line.
secrets=
make_secret() {
  secrets="$secrets $1/$2/$3"
}

${lines.join('\n')}

# Every Secret's manifest, by one awk from the environment, the values as \`printenv\` gives them:
# exported variables only (a shell variable that is not exported is not set), trailing newlines
# dropped, and empty counts as unset. Every variable is checked before any manifest is printed; a
# missing one is listed, once, in one error. A value goes from the environment into awk and out
# base64-encoded in its manifest: never into a shell variable, an eval or an argument as itself.
# LC_ALL=C makes awk's strings bytes (mawk, gawk and busybox awk alike), so the byte table below
# covers 1..255 (the environment cannot hold a NUL).
#
# Each manifest is what \`kubectl create secret generic NAME --namespace NS --from-file=KEY=...
# --dry-run=client --output yaml\` prints: kubectl's YAMLPrinter calls sigs.k8s.io/yaml's Marshal
# (kubernetes staging/src/k8s.io/cli-runtime/pkg/printers/yaml.go:80 at commit 3cfd18d0), which goes
# through JSON, so keys are sorted and the empty type is left out, and an unset metav1.Time marshals
# as null (apimachinery pkg/apis/meta/v1/time.go, Time.MarshalJSON, at commit 07e7e261). The layout
# only keeps it kubectl's: \`kubectl apply\` and kubeseal parse it as YAML, and the API server sets the
# creationTimestamp whether null or absent. \`platform secrets k3s\` writes the same bytes. Each
# follows a "---" line, in the list's order.
manifests=$(LC_ALL=C awk '
  function base64(text,   out, size, i, a, b, c, triple) {
    size = length(text)
    for (i = 1; i <= size; i += 3) {
      a = byte[substr(text, i, 1)]
      b = i + 1 <= size ? byte[substr(text, i + 1, 1)] : 0
      c = i + 2 <= size ? byte[substr(text, i + 2, 1)] : 0
      triple = (a * 256 + b) * 256 + c
      out = out substr(alphabet, int(triple / 262144) + 1, 1) substr(alphabet, int(triple / 4096) % 64 + 1, 1)
      out = out (i + 1 <= size ? substr(alphabet, int(triple / 64) % 64 + 1, 1) : "=")
      out = out (i + 2 <= size ? substr(alphabet, triple % 64 + 1, 1) : "=")
    }
    return out
  }
  BEGIN {
    # RFC 4648 base64: this alphabet, "=" padding, no line breaks (the form of Secret data).
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for (i = 1; i < 256; i++) byte[sprintf("%c", i)] = i
    for (i = 1; i < ARGC; i++) {
      key = ARGV[i]
      sub(/.*\\//, "", key)
      if (key in seen) continue
      seen[key] = 1
      value = ENVIRON[key]
      sub(/\\n+$/, "", value)
      if (value == "") {
        missing = missing (count++ ? ", " : "") key
        continue
      }
      encoded[key] = base64(value)
    }
    if (count == 1) printf "error: %s is not set; export it first (see README.md for how to make one)\\n", missing > "/dev/stderr"
    if (count > 1) printf "error: %s are not set; export them first (see README.md for how to make them)\\n", missing > "/dev/stderr"
    if (count > 0) exit 1
    for (i = 1; i < ARGC; i++) {
      split(ARGV[i], part, "/")
      ${awkPrintSecretManifest({ namespace: 'part[1]', name: 'part[2]', key: 'part[3]', data: 'encoded[part[3]]' })}
    }
  }' $secrets) || exit 1

if [ "$mode" = apply ]; then
  if [ -n "$manifests" ]; then printf '%s\\n' "$manifests" | kubectl apply --filename - > /dev/null; fi
  for secret in $secrets; do
    echo "applied \${secret%/*}"
  done
  exit 0
fi

mkdir -p "$sealed_dir"
nl='
'
rest="\${manifests#---$nl}"
# Each manifest in turn, cut from the stream at its "---" line, sealed into <namespace>-<secret>.yaml.
for secret in $secrets; do
  object=\${secret%/*}
  manifest=\${rest%%"$nl---$nl"*}
  rest=\${rest#"$manifest"}
  rest=\${rest#"$nl---$nl"}
  printf '%s\\n' "$manifest" | kubeseal --format yaml > "$sealed_dir/\${object%/*}-\${object#*/}.yaml"
  echo "sealed $object"
done
`;
}
