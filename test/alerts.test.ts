import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { referenceConfig } from '../lib/config/load.js';
import { renderAlertRules, renderAlertRuleTests } from '../lib/configs/prometheus.js';
import type { Target } from '../lib/model/service.js';
import { Prometheus } from '../lib/services/prometheus.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { fixtureNames, loadFixture } from './support/render.js';
import { toolAvailable } from './support/tools.js';

/*
 * Every alert rule, evaluated by Prometheus's own rule engine (`promtool test rules`): it fires on
 * the failure it names, with its labels and summary, and stays silent on a healthy system. The
 * tests are generated from each rule's proof, which the rule type requires: a new rule cannot be
 * added without one.
 */

const scratch = mkdtempSync(join(tmpdir(), 'platform-alerts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];
const cases = configs.flatMap(({ name, load }) => (['compose', 'k3s'] as Target[]).map((target) => ({ name, target, load })));

function prometheusOf(load: () => ReturnType<typeof referenceConfig>): Prometheus | undefined {
  const platform = buildReferencePlatform(load().config);
  const service = platform.service('prometheus');
  return service instanceof Prometheus ? service : undefined;
}

/**
 * One `promtool test rules` run over every distinct test file (promtool takes many files and
 * reports each under its own "Unit Testing:" heading). Its rule engine spends about two seconds of
 * CPU per file, and many configs render the same rules: a case whose rules and tests are
 * byte-identical to an earlier case's reads that case's report.
 */
const promtoolReports = new Map<string, string>();
beforeAll(() => {
  if (!toolAvailable('promtool')) return;
  const fileOf = new Map<string, string>();
  const caseFiles: [string, string][] = [];
  for (const { name, target, load } of cases) {
    const prometheus = prometheusOf(load);
    if (!prometheus) continue;
    const rules = prometheus.alertRules(target);
    const ruleText = renderAlertRules(rules, prometheus.recordingRules());
    const testText = renderAlertRuleTests(rules, 'alerts.yml');
    const key = `${ruleText}\0${testText}`;
    if (!fileOf.has(key)) {
      const dir = join(scratch, `${name}-${target}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'alerts.yml'), ruleText);
      writeFileSync(join(dir, 'alerts.test.yml'), testText);
      fileOf.set(key, join(dir, 'alerts.test.yml'));
    }
    caseFiles.push([`${name}-${target}`, fileOf.get(key) as string]);
  }
  const files = [...fileOf.values()];
  // Exit 1 when any file fails: the sections say which.
  const run = spawnSync('promtool', ['test', 'rules', ...files], { cwd: scratch, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  const sections = new Map(output.split(/^Unit Testing: +/m).slice(1).map((section) => [section.slice(0, section.indexOf('\n')).trim(), section]));
  if (sections.size !== files.length) throw new Error(`promtool reported ${sections.size} of ${files.length} files:\n${output}`);
  for (const [id, file] of caseFiles) promtoolReports.set(id, sections.get(file) as string);
}, 300_000);

describe.each(cases)('$name ($target)', ({ name, target, load }) => {
  const prometheus = prometheusOf(load);

  it.runIf(prometheus !== undefined && toolAvailable('promtool'))('promtool: every rule fires on its failure and stays silent when healthy', () => {
    const report = promtoolReports.get(`${name}-${target}`);
    expect(report, `promtool's report for ${name} (${target})`).toBeDefined();
    if (!/^\s+SUCCESS\s*$/m.test(report as string) || /FAILED/.test(report as string)) throw new Error(`promtool test rules failed:\n${report}`);
  });

  it.runIf(prometheus !== undefined)('each rendered rule has a firing and a healthy case', () => {
    const rules = (prometheus as Prometheus).alertRules(target);
    const rendered = parse(renderAlertRules(rules, (prometheus as Prometheus).recordingRules())) as { groups: { rules: { alert?: string }[] }[] };
    const tests = parse(renderAlertRuleTests(rules, 'alerts.yml')) as { tests: { name: string; alert_rule_test: { exp_alerts: unknown[] }[] }[] };
    for (const rule of rendered.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined)) {
      const fires = tests.tests.find((t) => t.name === `${rule.alert} fires`);
      const silent = tests.tests.find((t) => t.name === `${rule.alert} stays silent when healthy`);
      expect(fires?.alert_rule_test[0]?.exp_alerts.length, rule.alert).toBe(1);
      expect(silent?.alert_rule_test[0]?.exp_alerts.length, rule.alert).toBe(0);
    }
  });
});

describe('the reference alert list', () => {
  const prometheus = prometheusOf(referenceConfig) as Prometheus;

  it('names the failures the homelab watches for', () => {
    expect(prometheus.alertRules('compose').map((r) => r.alert)).toEqual([
      'HostHighCpu', 'HostHighMemory', 'HostDiskSpaceLow', 'TargetDown', 'GpuTemperatureHigh', 'ContainerDown', 'EndpointUnreachable',
      'LatencyObjectiveMissed', 'AvailabilityObjectiveMissed', 'BackupTooOld', 'BackupVerifyFailed',
    ]);
  });

  it('alerts on the text latency objective (3 s) from the recorded P95 of the chat site, and on 99% availability over 30 days', () => {
    const rules = prometheus.alertRules('compose');
    expect(rules.find((r) => r.alert === 'LatencyObjectiveMissed')?.expr).toBe('slo:caddy_ttfb_seconds:p95_5m{class="text"} > 3');
    expect(rules.find((r) => r.alert === 'AvailabilityObjectiveMissed')?.expr).toBe('site:probe_success:avg_30d < 0.99');
    const recorded = prometheus.recordingRules();
    expect(recorded.find((r) => r.labels?.class === 'text')?.expr).toContain('host=~"(chat\\\\.example\\\\.com)(:[0-9]+)?"');
    expect(recorded.find((r) => r.labels?.class === 'image')?.expr).toContain('comfyui\\\\.example\\\\.com');
    // The image objective (45 s) lies past Caddy's largest finite bucket (10 s): recorded, never alerted.
    expect(rules.filter((r) => r.alert === 'LatencyObjectiveMissed').map((r) => r.proof.labels.class)).toEqual(['text']);
  });

  it('ContainerDown expects every long-running container on its node, not the one-shots or on-demand ones', () => {
    const expr = prometheus.alertRules('compose').find((r) => r.alert === 'ContainerDown')?.expr ?? '';
    expect(expr).toContain('absent(container_last_seen{node="rtx",container_label_com_docker_compose_service="ollama"})');
    expect(expr).toContain('absent(container_last_seen{node="homelab",container_label_com_docker_compose_service="caddy"})');
    expect(expr).toContain('absent(container_last_seen{node="rtx",container_label_com_docker_compose_service="cadvisor"})');
    expect(expr).not.toContain('"ollama-init"');
    expect(expr).not.toContain('"cogvideox"');
    expect(expr).not.toContain('time()');
    const k3s = prometheus.alertRules('k3s').find((r) => r.alert === 'ContainerDown')?.expr ?? '';
    expect(k3s).toContain('container_label_io_kubernetes_container_name="ollama"');
  });
});
