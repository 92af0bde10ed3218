import type { Platform } from '../model/platform.js';
import type { Route } from '../model/route.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader } from '../output/yaml.js';

/** Plain-HTTP port of Caddy's Prometheus metrics, reachable on the zone networks only. */
export const CADDY_METRICS_PORT = 9180;

/** `comfyui` -> `COMFYUI_BASIC_AUTH_HASH`: the variable holding a protected site's bcrypt hash. */
export function basicAuthSecretName(host: string): string {
  return `${host.toUpperCase().replace(/-/g, '_')}_BASIC_AUTH_HASH`;
}

/**
 * The headers every response carries, error responses included. Removing `Server` makes Caddy
 * defer the whole `header` block to the moment the response is written, and an error (basic
 * auth's 401, reverse_proxy's 502, file_server's 404) bypasses that writer: so the site also
 * handles its errors, with the same headers and a plain "<code> <text>" body.
 */
const SECURITY_HEADERS = [
  '(headers) {',
  '\theader {',
  '\t\tStrict-Transport-Security "max-age=31536000; includeSubDomains"',
  '\t\tX-Content-Type-Options "nosniff"',
  '\t\tX-Frame-Options "DENY"',
  '\t\tReferrer-Policy "strict-origin-when-cross-origin"',
  '\t\t-Server',
  '\t}',
  '}',
  '',
  '(security_headers) {',
  '\timport headers',
  '\thandle_errors {',
  '\t\timport headers',
  '\t\trespond "{err.status_code} {err.status_text}"',
  '\t}',
  '}',
];

function site(platform: Platform, resolve: Resolver, route: Route, user: string): string[] {
  const lines = [`${platform.fqdn(route.host)} {`, '\timport security_headers'];
  if (route.auth) {
    // `basicauth` rather than `basic_auth`: the newer spelling is unknown to Caddy before 2.8.
    lines.push('\tbasicauth {', `\t\t${user} {$${basicAuthSecretName(route.host)}}`, '\t}');
  }
  route.cors.forEach((origin, index) => {
    const matcher = `@cors_${index}`;
    lines.push(
      `\t${matcher} header Origin https://${platform.fqdn(origin)}`,
      `\theader ${matcher} Access-Control-Allow-Origin "https://${platform.fqdn(origin)}"`,
      `\theader ${matcher} Access-Control-Allow-Methods "GET, POST, PUT, DELETE, OPTIONS"`,
      `\theader ${matcher} Access-Control-Allow-Headers "Content-Type, Authorization"`,
      `\theader ${matcher} Vary "Origin"`,
    );
  });
  if (route.cors.length > 0) lines.push('\t@preflight method OPTIONS', '\trespond @preflight 204');
  if (route.staticRoot !== undefined) {
    lines.push('\tencode zstd gzip', `\troot * /srv/${route.host}`, '\ttry_files {path} /index.html', '\tfile_server');
  } else if (route.service && route.port !== undefined) {
    const address = resolve.address(route.service, route.port);
    lines.push(`\treverse_proxy ${address.host}:${address.port}`);
  }
  lines.push('}');
  return lines;
}

/** The Caddyfile: one site per route, HSTS and security headers everywhere, ACME or the internal CA. */
export function renderCaddyfile(platform: Platform, resolve: Resolver): string {
  const global = ['{', `\temail ${platform.config.acmeEmail}`];
  if (platform.tls === 'internal') global.push('\tlocal_certs');
  global.push('}');
  const sites = [...platform.routes]
    .sort((a, b) => a.host.localeCompare(b.host))
    .map((route) => site(platform, resolve, route, platform.config.basicAuthUser).join('\n'));
  const metrics = [`http://:${CADDY_METRICS_PORT} {`, '\tmetrics', '}'].join('\n');
  return [generatedHeader('Caddyfile') + global.join('\n'), SECURITY_HEADERS.join('\n'), ...sites, metrics].join('\n\n') + '\n';
}
