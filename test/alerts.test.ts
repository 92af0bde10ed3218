import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { recordingsReadBy, renderAlertRuleProofs, renderAlertRules, renderAlertRuleTests, type AlertRule } from '../lib/configs/prometheus.js';
import type { Target } from '../lib/model/service.js';
import { Prometheus } from '../lib/services/prometheus.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { fixtureNames, loadFixture } from './support/render.js';
import { runTool, sectionsByFile, toolAvailable } from './support/tools.js';
import { readYaml } from './support/yaml.js';

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

function prometheusOf(load: () => ReturnType<typeof referenceConfig>): Prometheus | undefined {
  const platform = buildReferencePlatform(load().config);
  const service = platform.service('prometheus');
  return service instanceof Prometheus ? service : undefined;
}

/** Each config on each target, with its Prometheus (built once, read by the promtool run and the tests). */
const cases = configs.flatMap(({ name, load }) => {
  const prometheus = prometheusOf(load);
  return (['compose', 'k3s'] as Target[]).map((target) => ({ name, target, prometheus }));
});

/**
 * promtool runs each rule's proof against a rules file with just that rule and the recording rules
 * it reads (renderAlertRuleProofs): it evaluates every rule of the file at every step of every
 * case, so a proof over the whole alerts.yml cost about five times as much. Most rules render the
 * same in many configs (the host rules in all of them): each distinct proof runs once (45 for the
 * 24 cases, where each distinct case's whole file made 488 test groups), and a case reads the
 * reports of its rules' proofs.
 */
const proofFiles = new Map<string, { alert: string; file: string }[]>();
const promtoolReports = new Map<string, string>();

beforeAll(async () => {
  if (!toolAvailable('promtool')) return;
  const fileOf = new Map<string, string>();
  for (const { name, target, prometheus } of cases) {
    if (!prometheus) continue;
    const proofs = renderAlertRuleProofs(prometheus.alertRules(target), prometheus.recordingRules(), 'alerts.yml');
    proofFiles.set(`${name}-${target}`, proofs.map((proof) => {
      const key = `${proof.rules}\0${proof.tests}`;
      if (!fileOf.has(key)) {
        const dir = join(scratch, `${fileOf.size}-${proof.alert}`);
        mkdirSync(dir);
        writeFileSync(join(dir, 'alerts.yml'), proof.rules);
        writeFileSync(join(dir, 'alerts.test.yml'), proof.tests);
        fileOf.set(key, join(dir, 'alerts.test.yml'));
      }
      return { alert: proof.alert, file: fileOf.get(key) as string };
    }));
  }
  // Two promtool processes, one per core.
  const files = [...fileOf.values()];
  const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)].filter((half) => half.length > 0);
  const runs = await Promise.all(halves.map((half) => runTool('promtool', ['test', 'rules', ...half])));
  // Exit 1 when any file fails: each file's report says which.
  for (const [i, run] of runs.entries()) {
    for (const [file, report] of sectionsByFile(run.output, halves[i] as string[], (f) => `Unit Testing:  ${f}`)) promtoolReports.set(file, report);
  }
}, 300_000);

describe.each(cases)('$name ($target)', ({ name, target, prometheus }) => {
  it.runIf(prometheus !== undefined && toolAvailable('promtool'))('promtool: every rule fires on its failure and stays silent when healthy', () => {
    const proofs = proofFiles.get(`${name}-${target}`);
    expect(proofs?.map((p) => p.alert), `the proofs of ${name} (${target})`).toEqual((prometheus as Prometheus).alertRules(target).map((r) => r.alert));
    const failed = (proofs ?? []).filter(({ file }) => {
      const report = promtoolReports.get(file);
      return report === undefined || !/^\s+SUCCESS\s*$/m.test(report) || /FAILED/.test(report);
    });
    if (failed.length > 0) throw new Error(`promtool test rules failed:\n${failed.map(({ alert, file }) => `${alert}: ${promtoolReports.get(file) ?? 'no report'}`).join('\n')}`);
  });

  it.runIf(prometheus !== undefined)('each rendered rule has a firing and a healthy case', () => {
    const rules = (prometheus as Prometheus).alertRules(target);
    const rendered = readYaml(renderAlertRules(rules, (prometheus as Prometheus).recordingRules())) as { groups: { rules: { alert?: string }[] }[] };
    const tests = readYaml(renderAlertRuleTests(rules, 'alerts.yml')) as { tests: { name: string; alert_rule_test: { exp_alerts: unknown[] }[] }[] };
    for (const rule of rendered.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined)) {
      const fires = tests.tests.find((t) => t.name === `${rule.alert} fires`);
      const silent = tests.tests.find((t) => t.name === `${rule.alert} stays silent when healthy`);
      expect(fires?.alert_rule_test[0]?.exp_alerts.length, rule.alert).toBe(1);
      expect(silent?.alert_rule_test[0]?.exp_alerts.length, rule.alert).toBe(0);
    }
  });

  it.runIf(prometheus !== undefined)('each proof reads its rule, as alerts.yml renders it, with the recording rules it reads and no other rule', () => {
    const rules = (prometheus as Prometheus).alertRules(target);
    const recordings = (prometheus as Prometheus).recordingRules();
    const whole = readYaml(renderAlertRules(rules, recordings)) as RulesFile;
    const alerts = whole.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    const proofs = renderAlertRuleProofs(rules, recordings, 'alerts.yml');
    expect(proofs.map((p) => p.alert)).toEqual(alerts.map((r) => r.alert));
    for (const [i, proof] of proofs.entries()) {
      const own = readYaml(proof.rules) as RulesFile;
      expect(own.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined), proof.alert).toEqual([alerts[i]]);
      const recorded = own.groups.flatMap((g) => g.rules).filter((r) => r.record !== undefined);
      // Every recorded series the alert names, each as alerts.yml records it (the slo group, evaluated first).
      expect(recorded, proof.alert).toEqual(whole.groups.flatMap((g) => g.rules).filter((r) => r.record !== undefined && new RegExp(`\\b${r.record}\\b`).test(alerts[i]?.expr ?? '')));
      expect(own.groups.map((g) => g.name), proof.alert).toEqual(recorded.length > 0 ? ['slo', 'homelab'] : ['homelab']);
      const tests = readYaml(proof.tests) as { rule_files: string[]; tests: { name: string }[] };
      expect(tests.rule_files).toEqual(['alerts.yml']);
      expect(tests.tests.map((t) => t.name)).toEqual([`${proof.alert} fires`, `${proof.alert} stays silent when healthy`]);
    }
  });
});

type RulesFile = { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };

describe('proofs of their own', () => {
  const prometheus = prometheusOf(referenceConfig) as Prometheus;

  it('the objective alerts bring the recorded series they read; the others need none', () => {
    const proofs = renderAlertRuleProofs(prometheus.alertRules('compose'), prometheus.recordingRules(), 'alerts.yml');
    const recordedBy = Object.fromEntries(proofs.map((p) => [p.alert, (readYaml(p.rules) as RulesFile).groups.flatMap((g) => g.rules).flatMap((r) => r.record ?? [])]));
    expect(recordedBy.LatencyObjectiveMissed).toEqual(['slo:caddy_ttfb_seconds:p95_5m', 'slo:caddy_ttfb_seconds:p95_5m']);
    expect(recordedBy.AvailabilityObjectiveMissed).toEqual(['site:probe_success:avg_30d']);
    expect(recordedBy.HostHighCpu).toEqual([]);
    expect(recordedBy.ContainerDown).toEqual([]);
  });

  it('recording rules a recorded series reads come too, and a name inside a longer name is not a read', () => {
    const recordings = [
      { record: 'a:x:rate5m', expr: 'rate(x[5m])' },
      { record: 'b:x:ratio', expr: 'a:x:rate5m / 2' },
      { record: 'a:x:rate5m_total', expr: 'sum(x)' },
    ];
    expect(recordingsReadBy('b:x:ratio > 1', recordings).map((r) => r.record)).toEqual(['a:x:rate5m', 'b:x:ratio']);
  });

  it('a rule that reads the state of other alerts cannot have a proof of its own', () => {
    const [rule] = prometheus.alertRules('compose');
    expect(() => renderAlertRuleProofs([{ ...(rule as AlertRule), alert: 'Meta', expr: 'count(ALERTS{alertstate="firing"}) > 3' }], [], 'alerts.yml')).toThrow(
      'alert Meta reads ALERTS, the state of other alerts: its proof needs every alert of the file, not a file of its own',
    );
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
