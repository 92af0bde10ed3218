/*
 * Facts about images. The pinned image of each service lives in its descriptor
 * (lib/services/<name>.ts, an `image: 'repo:tag',` line Renovate's regex manager finds); the
 * facts below are keyed by image reference, since they are about the image, not the service.
 *
 * ComfyUI, Mochi and CogVideoX are built by the platform from the Dockerfiles under `images/`
 * (their descriptors' `build`): nobody publishes an image of the video models, and building
 * ComfyUI from its release keeps its paths and flags under our control. Their names start with
 * `localhost/` so that a host which lacks the build never pulls a look-alike from Docker Hub.
 */

/**
 * pgvector's build of Postgres, used when `postgres.vectors` is on. Built FROM the official
 * `postgres:16-bookworm` (pgvector's Dockerfile), the same family as the default image.
 */
export const PGVECTOR_IMAGE = 'pgvector/pgvector:0.8.0-pg16';

/** Tags that move: an image pinned to one of these is not reproducible. */
export const FLOATING_TAGS = ['latest', 'main', 'main-latest', 'stable', 'edge', 'nightly', 'dev'];

/** An image the platform builds itself: its Dockerfile and server live under `images/` of this repository. */
export interface ImageBuild {
  /**
   * Folders under `images/` whose files make the build context, merged by file name in this
   * order (the video models share `video-server/server.py`).
   */
  readonly sources: readonly string[];
  /** The upstream code the Dockerfile builds, at a pinned tag or commit (an ARG in the Dockerfile). */
  readonly upstream: { readonly repo: string; readonly ref: string; readonly arg: string };
  /**
   * sha256 over the context (each file's name, NUL, content, NUL, by name in code-unit order, the
   * same on every machine): a change to the Dockerfile or server must come with a new image tag, or
   * hosts keep running the old build.
   * test/images.test.ts recomputes it.
   */
  readonly contextSha256: string;
}

/** A program in an image that a health check can run (the first word of the check). */
export type HealthTool = string;

/** Where a pinned tag comes from: checked against the tag by test/images.test.ts. */
export interface TagEvidence {
  /** The upstream release (tag or commit) the image is built from. */
  readonly release: string;
  /**
   * How the publisher names the image tag after the release: `{release}` as is, `{version}`
   * without a leading `v` or `<package>@` (n8n tags its releases `n8n@1.119.2`); a pinned tag must equal this. Built images: `{short}-<revision>`.
   */
  readonly tagScheme: string;
  /** Release notes (or, for built images, the upstream code) of `release`. */
  readonly releaseNotes: string;
  /** The upstream file (at a commit, with line) whose build publishes tags of this scheme. */
  readonly publishedBy: string;
}

/** What an image does at its pinned tag, read from its source there. */
export interface ImageFacts {
  /**
   * The account its main process runs as on the platform, which owns its data folders (bind
   * mode prepares them for this uid/gid).
   */
  readonly user: { readonly uid: number; readonly gid: number; readonly name: string };
  /**
   * How the container gets there: `as-user` runs as `user` from the start (the image's USER, or
   * the service's `user`); `root-then-drops` starts as root and its entrypoint prepares the data
   * folders and switches to `user` itself (so the service must not set a user).
   */
  readonly start: 'as-user' | 'root-then-drops';
  /** Folders it keeps data in: the service mounts its volumes exactly here. */
  readonly dataPaths: readonly string[];
  /** Ports its processes listen on. */
  readonly listenPorts: readonly number[];
  /** Programs in the image a health check can run. */
  readonly healthTools: readonly HealthTool[];
  readonly evidence: TagEvidence;
}

const GH = 'https://github.com';

/**
 * Facts per pinned image, keyed by the full reference. The bind-mode ownership of data folders
 * (`user`), the mount paths, ports and health checks of the service files are checked against
 * these in test/images.test.ts; an image overridden in `images:` is the owner's to vouch for.
 */
export const IMAGE_FACTS: Readonly<Record<string, ImageFacts>> = {
  'technitium/dns-server:14.3.0': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/etc/dns'],
    listenPorts: [53, 5380],
    healthTools: ['bash'],
    evidence: {
      release: 'v14.3.0',
      tagScheme: '{version}',
      releaseNotes: `${GH}/TechnitiumSoftware/DnsServer/releases/tag/v14.3.0`,
      publishedBy: `${GH}/TechnitiumSoftware/DnsServer/blob/v14.3.0/Dockerfile`,
    },
  },
  'lscr.io/linuxserver/ddclient:4.0.0-ls228': {
    // s6 starts as root, chowns /config to abc and runs ddclient as abc (svc-ddclient/run line 6).
    user: { uid: 911, gid: 911, name: 'abc' },
    start: 'root-then-drops',
    dataPaths: ['/config'],
    listenPorts: [],
    healthTools: ['s6-svstat', 'sh', 'bash'],
    evidence: {
      release: 'v4.0.0-ls228',
      tagScheme: '{version}',
      releaseNotes: `${GH}/linuxserver/docker-ddclient/releases/tag/v4.0.0-ls228`,
      // META_TAG = EXT_RELEASE_CLEAN + '-ls' + LS_TAG_NUMBER, pushed to lscr.io (GITHUBIMAGE) and Docker Hub.
      publishedBy: `${GH}/linuxserver/docker-ddclient/blob/v4.0.0-ls228/Jenkinsfile#L220`,
    },
  },
  'caddy:2.10.0-alpine': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/data', '/config'],
    // 9180: the metrics listener the rendered Caddyfile opens; 3100: its Loki push gateway site.
    listenPorts: [80, 443, 2019, 3100, 9180],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v2.10.0',
      tagScheme: '{version}-alpine',
      releaseNotes: `${GH}/caddyserver/caddy/releases/tag/v2.10.0`,
      publishedBy: `${GH}/docker-library/official-images/blob/master/library/caddy`,
    },
  },
  'ghcr.io/berriai/litellm:v1.79.1-stable': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [4000],
    healthTools: ['python3', 'sh'],
    evidence: {
      release: 'v1.79.1-stable',
      tagScheme: '{release}',
      releaseNotes: `${GH}/BerriAI/litellm/releases/tag/v1.79.1-stable`,
      publishedBy: `${GH}/BerriAI/litellm/blob/v1.79.1-stable/.github/workflows/ghcr_deploy.yml`,
    },
  },
  'ollama/ollama:0.11.4': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/root/.ollama'],
    listenPorts: [11434],
    healthTools: ['ollama', 'bash', 'sh'],
    evidence: {
      release: 'v0.11.4',
      tagScheme: '{version}',
      releaseNotes: `${GH}/ollama/ollama/releases/tag/v0.11.4`,
      publishedBy: `${GH}/ollama/ollama/blob/v0.11.4/.github/workflows/release.yaml`,
    },
  },
  'ghcr.io/open-webui/open-webui:v0.6.22': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/app/backend/data'],
    listenPorts: [8080],
    healthTools: ['curl', 'python3', 'bash', 'sh'],
    evidence: {
      release: 'v0.6.22',
      tagScheme: '{release}',
      releaseNotes: `${GH}/open-webui/open-webui/releases/tag/v0.6.22`,
      publishedBy: `${GH}/open-webui/open-webui/blob/v0.6.22/.github/workflows/docker-build.yaml`,
    },
  },
  'localhost/platform/comfyui:v0.3.60-1': {
    // images/comfyui/Dockerfile: `USER 1000:1000`, ComfyUI's folders under /workspace (--base-directory).
    user: { uid: 1000, gid: 1000, name: 'comfy' },
    start: 'as-user',
    dataPaths: ['/workspace/models', '/workspace/input', '/workspace/output', '/workspace/user'],
    listenPorts: [8188],
    healthTools: ['python3', 'bash', 'sh'],
    evidence: {
      release: 'v0.3.60',
      tagScheme: '{release}-1',
      releaseNotes: `${GH}/comfyanonymous/ComfyUI/releases/tag/v0.3.60`,
      publishedBy: 'images/comfyui/Dockerfile',
    },
  },
  'alpine:3.22.1': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    // The platform runs it as comfyui-models, downloading into the models volume at /models.
    dataPaths: ['/models'],
    listenPorts: [],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: '3.22.1',
      tagScheme: '{release}',
      releaseNotes: 'https://alpinelinux.org/posts/Alpine-3.22.1-released.html',
      publishedBy: `${GH}/docker-library/official-images/blob/master/library/alpine`,
    },
  },
  'localhost/platform/mochi:0c86aeb-1': {
    user: { uid: 1000, gid: 1000, name: 'app' },
    start: 'as-user',
    dataPaths: ['/models', '/output'],
    listenPorts: [8000],
    healthTools: ['python3', 'bash', 'sh'],
    evidence: {
      release: '0c86aebf386e6622deadfb47ff1996878cefc0ac',
      tagScheme: '{short}-1',
      releaseNotes: `${GH}/genmoai/mochi/tree/0c86aebf386e6622deadfb47ff1996878cefc0ac`,
      publishedBy: 'images/mochi/Dockerfile',
    },
  },
  'localhost/platform/cogvideox:e519ece-1': {
    user: { uid: 1000, gid: 1000, name: 'app' },
    start: 'as-user',
    dataPaths: ['/models', '/output'],
    listenPorts: [8000],
    healthTools: ['python3', 'bash', 'sh'],
    evidence: {
      release: 'e519eced782c08db81f45e5eb40baa45958087ae',
      tagScheme: '{short}-1',
      releaseNotes: `${GH}/THUDM/CogVideo/tree/e519eced782c08db81f45e5eb40baa45958087ae`,
      publishedBy: 'images/cogvideox/Dockerfile',
    },
  },
  'postgres:16.10-bookworm': {
    // docker-library/postgres 16/bookworm: `useradd ... --uid 999 postgres` (groupadd --gid 999);
    // the entrypoint drops to it with gosu.
    user: { uid: 999, gid: 999, name: 'postgres' },
    start: 'root-then-drops',
    dataPaths: ['/var/lib/postgresql/data'],
    listenPorts: [5432],
    healthTools: ['sh', 'bash'],
    evidence: {
      release: '16.10',
      tagScheme: '{version}-bookworm',
      releaseNotes: 'https://www.postgresql.org/docs/release/16.10/',
      publishedBy: `${GH}/docker-library/official-images/blob/master/library/postgres`,
    },
  },
  'pgvector/pgvector:0.8.0-pg16': {
    // Debian-based (FROM postgres:16): the postgres user is uid 999.
    user: { uid: 999, gid: 999, name: 'postgres' },
    start: 'root-then-drops',
    dataPaths: ['/var/lib/postgresql/data'],
    listenPorts: [5432],
    healthTools: ['sh', 'bash'],
    evidence: {
      release: 'v0.8.0',
      tagScheme: '{version}-pg16',
      releaseNotes: `${GH}/pgvector/pgvector/blob/v0.8.0/CHANGELOG.md`,
      publishedBy: `${GH}/pgvector/pgvector/blob/v0.8.0/Dockerfile`,
    },
  },
  'valkey/valkey:7.2.10-alpine': {
    // valkey-container alpine: `adduser -S -G valkey -u 999 valkey`; the entrypoint drops to it with su-exec.
    user: { uid: 999, gid: 1000, name: 'valkey' },
    start: 'root-then-drops',
    dataPaths: ['/data'],
    listenPorts: [6379],
    healthTools: ['valkey-cli', 'sh'],
    evidence: {
      release: '7.2.10',
      tagScheme: '{version}-alpine',
      releaseNotes: `${GH}/valkey-io/valkey/releases/tag/7.2.10`,
      publishedBy: `${GH}/valkey-io/valkey-container/blob/mainline/.github/workflows/docker-image.yml`,
    },
  },
  'minio/minio:RELEASE.2025-09-07T16-13-09Z': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/data'],
    listenPorts: [9000, 9001],
    healthTools: ['mc', 'sh'],
    evidence: {
      release: 'RELEASE.2025-09-07T16-13-09Z',
      tagScheme: '{release}',
      releaseNotes: `${GH}/minio/minio/releases/tag/RELEASE.2025-09-07T16-13-09Z`,
      publishedBy: `${GH}/minio/minio/blob/RELEASE.2025-09-07T16-13-09Z/Dockerfile.release`,
    },
  },
  'qdrant/qdrant:v1.15.1': {
    // Dockerfile: `ARG USER_ID=0` (root unless built otherwise); storage under /qdrant/storage; REST 6333, gRPC 6334.
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/qdrant/storage'],
    listenPorts: [6333, 6334],
    healthTools: ['bash', 'sh'],
    evidence: {
      release: 'v1.15.1',
      tagScheme: '{release}',
      releaseNotes: `${GH}/qdrant/qdrant/releases/tag/v1.15.1`,
      publishedBy: `${GH}/qdrant/qdrant/blob/v1.15.1/Dockerfile`,
    },
  },
  'n8nio/n8n:1.119.2': {
    // docker/images/n8n/Dockerfile: `USER node` (uid 1000 in the node base image), `mkdir -p
    // /home/node/.n8n && chown -R node:node /home/node`, EXPOSE 5678; Alpine, so busybox wget.
    user: { uid: 1000, gid: 1000, name: 'node' },
    start: 'as-user',
    dataPaths: ['/home/node/.n8n'],
    listenPorts: [5678],
    healthTools: ['wget', 'sh', 'node'],
    evidence: {
      release: 'n8n@1.119.2',
      tagScheme: '{version}',
      releaseNotes: `${GH}/n8n-io/n8n/releases/tag/n8n@1.119.2`,
      // Builds ./docker/images/n8n/Dockerfile with N8N_VERSION and pushes n8nio/n8n:<version>.
      publishedBy: `${GH}/n8n-io/n8n/blob/n8n@1.119.2/.github/workflows/docker-build-push.yml`,
    },
  },
  'langfuse/langfuse:2.95.12': {
    // web/Dockerfile at v2.95.12: `adduser --system --uid 1001 nextjs` (group nodejs 1001),
    // `USER nextjs`, `ENV PORT 3000`; Alpine (node:20-alpine), so busybox wget. No data folder:
    // everything is in Postgres.
    user: { uid: 1001, gid: 1001, name: 'nextjs' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [3000],
    healthTools: ['wget', 'sh', 'node'],
    evidence: {
      release: 'v2.95.12',
      tagScheme: '{version}',
      releaseNotes: `${GH}/langfuse/langfuse/releases/tag/v2.95.12`,
      // docker/metadata-action: `type=semver,pattern={{version}}` for langfuse/langfuse.
      publishedBy: `${GH}/langfuse/langfuse/blob/v2.95.12/.github/workflows/pipeline.yml#L450`,
    },
  },
  'searxng/searxng:2025.9.20-57ef342': {
    // container/base.yml at 57ef342 sets no run-as and the entrypoint does not switch users
    // (entrypoint.sh line 130: exec granian), so the platform runs it as the searxng account
    // (uid 977, base.yml lines 19-26), which owns /etc/searxng and /var/cache/searxng (lines 43-55).
    user: { uid: 977, gid: 977, name: 'searxng' },
    start: 'as-user',
    dataPaths: ['/var/cache/searxng'],
    listenPorts: [8080],
    // base.yml lines 10-12: busybox, python3, wget.
    healthTools: ['python3', 'wget', 'sh'],
    evidence: {
      release: '57ef342ad11eae84629b9c1e889d2b9aa212efeb',
      // searx/version.py lines 69-75: commit date `%Y.%m.%d` with leading zeros dropped, `-`, `%h`.
      tagScheme: '2025.9.20-{short}',
      releaseNotes: `${GH}/searxng/searxng/commit/57ef342ad11eae84629b9c1e889d2b9aa212efeb`,
      // release_registries=("ghcr.io" "docker.io"), pushed as $DOCKER_TAG and latest.
      publishedBy: `${GH}/searxng/searxng/blob/57ef342ad11eae84629b9c1e889d2b9aa212efeb/utils/lib_sxng_container.sh#L264`,
    },
  },
  'prom/prometheus:v3.5.0': {
    user: { uid: 65534, gid: 65534, name: 'nobody' },
    start: 'as-user',
    dataPaths: ['/prometheus'],
    listenPorts: [9090],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v3.5.0',
      tagScheme: '{release}',
      releaseNotes: `${GH}/prometheus/prometheus/releases/tag/v3.5.0`,
      publishedBy: `${GH}/prometheus/prometheus/blob/v3.5.0/Makefile.common`,
    },
  },
  'prom/alertmanager:v0.28.1': {
    user: { uid: 65534, gid: 65534, name: 'nobody' },
    start: 'as-user',
    dataPaths: ['/alertmanager'],
    listenPorts: [9093],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v0.28.1',
      tagScheme: '{release}',
      releaseNotes: `${GH}/prometheus/alertmanager/releases/tag/v0.28.1`,
      publishedBy: `${GH}/prometheus/alertmanager/blob/v0.28.1/Makefile.common`,
    },
  },
  'grafana/grafana:12.1.1': {
    user: { uid: 472, gid: 0, name: 'grafana' },
    start: 'as-user',
    dataPaths: ['/var/lib/grafana'],
    listenPorts: [3000],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v12.1.1',
      tagScheme: '{version}',
      releaseNotes: `${GH}/grafana/grafana/releases/tag/v12.1.1`,
      publishedBy: `${GH}/grafana/grafana/blob/v12.1.1/Dockerfile`,
    },
  },
  'grafana/loki:3.5.3': {
    // cmd/loki/Dockerfile: distroless/static:debug (busybox wget on PATH), `USER 10001`, /loki.
    user: { uid: 10001, gid: 10001, name: 'loki' },
    start: 'as-user',
    dataPaths: ['/loki'],
    listenPorts: [3100],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v3.5.3',
      tagScheme: '{version}',
      releaseNotes: `${GH}/grafana/loki/releases/tag/v3.5.3`,
      publishedBy: `${GH}/grafana/loki/blob/v3.5.3/cmd/loki/Dockerfile`,
    },
  },
  'grafana/alloy:v1.13.0': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/var/lib/alloy/data'],
    listenPorts: [12345],
    healthTools: ['bash', 'sh'],
    evidence: {
      release: 'v1.13.0',
      tagScheme: '{release}',
      releaseNotes: `${GH}/grafana/alloy/releases/tag/v1.13.0`,
      publishedBy: `${GH}/grafana/alloy/blob/v1.13.0/Dockerfile`,
    },
  },
  'louislam/uptime-kuma:1.23.16': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/app/data'],
    listenPorts: [3001],
    healthTools: ['extra/healthcheck', 'node', 'sh'],
    evidence: {
      release: '1.23.16',
      tagScheme: '{release}',
      releaseNotes: `${GH}/louislam/uptime-kuma/releases/tag/1.23.16`,
      publishedBy: `${GH}/louislam/uptime-kuma/blob/1.23.16/docker/dockerfile`,
    },
  },
  'binwiederhier/ntfy:v2.14.0': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: ['/var/cache/ntfy'],
    // 9095: the metrics listener the platform turns on (NTFY_METRICS_LISTEN_HTTP).
    listenPorts: [80, 9095],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v2.14.0',
      tagScheme: '{release}',
      releaseNotes: `${GH}/binwiederhier/ntfy/releases/tag/v2.14.0`,
      publishedBy: `${GH}/binwiederhier/ntfy/blob/v2.14.0/.goreleaser.yml`,
    },
  },
  'prom/node-exporter:v1.9.1': {
    // Dockerfile line 11: `USER nobody`; line 10: `EXPOSE 9100`.
    user: { uid: 65534, gid: 65534, name: 'nobody' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [9100],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v1.9.1',
      tagScheme: '{release}',
      releaseNotes: `${GH}/prometheus/node_exporter/releases/tag/v1.9.1`,
      // docker-manifest: `docker manifest push $(DOCKER_REPO)/$(DOCKER_IMAGE_NAME):$(SANITIZED_DOCKER_IMAGE_TAG)`, DOCKER_REPO ?= prom.
      publishedBy: `${GH}/prometheus/node_exporter/blob/v1.9.1/Makefile.common#L239`,
    },
  },
  'gcr.io/cadvisor/cadvisor:v0.52.1': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [8080],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v0.52.1',
      tagScheme: '{release}',
      releaseNotes: `${GH}/google/cadvisor/releases/tag/v0.52.1`,
      publishedBy: `${GH}/google/cadvisor/blob/v0.52.1/build/release.sh`,
    },
  },
  'nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04': {
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [9400],
    healthTools: ['bash', 'sh'],
    evidence: {
      release: '4.2.3-4.1.3',
      tagScheme: '{release}-ubuntu22.04',
      releaseNotes: `${GH}/NVIDIA/dcgm-exporter/releases/tag/4.2.3-4.1.3`,
      publishedBy: `${GH}/NVIDIA/dcgm-exporter/blob/4.2.3-4.1.3/Makefile`,
    },
  },
  'rocm/device-metrics-exporter:v1.4.0.1': {
    // docker/Dockerfile.exporter-release: UBI minimal, no USER (root), ENTRYPOINT entrypoint.sh.
    user: { uid: 0, gid: 0, name: 'root' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [5000],
    healthTools: ['bash', 'sh'],
    evidence: {
      release: 'v1.4.0.1',
      tagScheme: '{release}',
      releaseNotes: `${GH}/ROCm/device-metrics-exporter/releases/tag/v1.4.0.1`,
      publishedBy: `${GH}/ROCm/device-metrics-exporter/blob/v1.4.0.1/docs/installation/docker.md`,
    },
  },
  'prom/blackbox-exporter:v0.27.0': {
    user: { uid: 65534, gid: 65534, name: 'nobody' },
    start: 'as-user',
    dataPaths: [],
    listenPorts: [9115],
    healthTools: ['wget', 'sh'],
    evidence: {
      release: 'v0.27.0',
      tagScheme: '{release}',
      releaseNotes: `${GH}/prometheus/blackbox_exporter/releases/tag/v0.27.0`,
      publishedBy: `${GH}/prometheus/blackbox_exporter/blob/v0.27.0/Makefile.common`,
    },
  },
};

/** Facts of an image when it is one the table pins; an `images:` override has none. */
export function imageFacts(image: string): ImageFacts | undefined {
  return IMAGE_FACTS[image];
}

/** The tag an evidence record names: what the image reference must end with. */
export function evidenceTag(evidence: TagEvidence): string {
  return evidence.tagScheme
    .replace('{release}', evidence.release)
    .replace('{version}', evidence.release.replace(/^(v|[a-z0-9-]+@)/, ''))
    .replace('{short}', evidence.release.slice(0, 7));
}
