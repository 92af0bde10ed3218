import { formatPath } from '../config/errors.js';
import { VERSION } from '../version.js';
import type { LocatedFinding, Validation } from './check.js';
import { RULES } from './rules.js';

export type ReportFormat = 'text' | 'json' | 'sarif';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'sarif'];

function where(f: LocatedFinding): string {
  return f.line !== undefined ? `${f.file}:${f.line}:${f.column}` : f.file;
}

/** Errors only, as `platform synth` prints them before refusing to write. */
export function formatFindingLines(findings: readonly LocatedFinding[]): string {
  return findings.map((f) => `${where(f)}: ${f.severity} ${f.rule}: ${formatPath(f.path)}: ${f.message}\n  fix: ${f.fix}`).join('\n');
}

/** What `platform synth` (and `cdk8s synth`) print when the rules stop them: the errors, with fixes. */
export function formatRefusal(v: Validation): string {
  return `error: ${v.errors} error(s) in ${v.file}; nothing written\n${formatFindingLines(v.findings.filter((f) => f.severity === 'error'))}\n`;
}

function text(v: Validation): string {
  const lines: string[] = [];
  if (v.findings.length > 0) lines.push(formatFindingLines(v.findings), '');
  if (v.egress.length > 0) {
    lines.push('Destinations outside the homelab:');
    const width = Math.max(...v.egress.map((e) => e.host.length));
    for (const e of v.egress) lines.push(`  ${e.host.padEnd(width)}  ${e.from}: ${e.why}`);
    lines.push('');
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(`${v.file}: ${plural(v.errors, 'error')}, ${plural(v.warnings, 'warning')}`);
  return `${lines.join('\n')}\n`;
}

function json(v: Validation): string {
  const findings = v.findings.map((f) => ({
    rule: f.rule,
    severity: f.severity,
    path: formatPath(f.path),
    message: f.message,
    fix: f.fix,
    file: f.file,
    ...(f.line !== undefined ? { line: f.line, column: f.column } : {}),
  }));
  return `${JSON.stringify({ file: v.file, errors: v.errors, warnings: v.warnings, findings, egress: v.egress.map((e) => ({ host: e.host, from: e.from, why: e.why })) }, null, 2)}\n`;
}

/** SARIF 2.1.0, for GitHub code scanning and other SARIF viewers. */
function sarif(v: Validation): string {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
  const embedded = v.file.startsWith('<');
  const results = v.findings.map((f) => ({
    ruleId: f.rule,
    ruleIndex: ruleIndex.get(f.rule) ?? 0,
    level: f.severity,
    message: { text: `${f.message}. Fix: ${f.fix}` },
    locations: [
      {
        ...(embedded
          ? {}
          : {
              physicalLocation: {
                artifactLocation: { uri: f.file },
                ...(f.line !== undefined ? { region: { startLine: f.line, startColumn: f.column } } : {}),
              },
            }),
        logicalLocations: [{ fullyQualifiedName: formatPath(f.path), kind: 'member' }],
      },
    ],
    properties: { fix: f.fix },
  }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'platform validate',
            version: VERSION,
            rules: RULES.map((r) => ({ id: r.id, shortDescription: { text: r.description } })),
          },
        },
        results,
        properties: { egress: v.egress.map((e) => ({ host: e.host, from: e.from, why: e.why })) },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

export function formatValidation(v: Validation, format: ReportFormat): string {
  return format === 'json' ? json(v) : format === 'sarif' ? sarif(v) : text(v);
}
