/** The config `npm run bench` measures synth against: the reference homelab plus `count` generated apps, as YAML. */
export function generateAppsConfig(count: number): string;
