import { styleText } from 'node:util';
import type { AppChange, ChangeKind, ResourceChange, TreeDiff } from './compare.js';

export type DiffFormat = 'text' | 'markdown' | 'json';
export const DIFF_FORMATS: readonly DiffFormat[] = ['text', 'markdown', 'json'];

/** GitHub rejects comments longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** Marks the comment so the workflow updates it instead of adding another. */
export const COMMENT_MARKER = '<!-- platform-diff -->';

export interface DiffLabels {
  readonly base: string;
  readonly head: string;
}

const SIGN: Record<ChangeKind, string> = { added: '+', changed: '±', removed: '-' };
const RESOURCE_SIGN: Record<ChangeKind, string> = { added: '+', changed: '~', removed: '-' };
const GROUP: Record<ChangeKind, string> = { changed: 'Modified', added: 'Added', removed: 'Removed' };

function counts(a: { additions: number; deletions: number }): string {
  return `(+${a.additions}|-${a.deletions})`;
}

/** `Modified (2): ± k3s/llm (+5|-3), ± k3s/chat (+1|-1)` and the same for added and removed; `No changes.` */
export function summaryLines(diff: TreeDiff): string[] {
  if (!diff.changed) return ['No changes.'];
  return (['changed', 'added', 'removed'] as const)
    .map((status) => {
      const apps = diff.apps.filter((a) => a.status === status);
      return apps.length === 0 ? undefined : `${GROUP[status]} (${apps.length}): ${apps.map((a) => `${SIGN[status]} ${a.app} ${counts(a)}`).join(', ')}`;
    })
    .filter((l): l is string => l !== undefined);
}

function resourceCounts(app: AppChange): string {
  const n = (s: ChangeKind) => app.resources.filter((r) => r.status === s).length;
  return (['changed', 'added', 'removed'] as const)
    .filter((s) => n(s) > 0)
    .map((s) => `${n(s)} ${s}`)
    .join(', ');
}

export function formatText(diff: TreeDiff, labels: DiffLabels, color: boolean): string {
  const paint = (style: Parameters<typeof styleText>[0], s: string) => (color ? styleText(style, s) : s);
  const lines = [`platform diff ${labels.base} -> ${labels.head}`, ...summaryLines(diff)];
  for (const app of diff.apps) {
    lines.push('', paint('bold', `${SIGN[app.status]} ${app.app} ${counts(app)}: ${resourceCounts(app)}`));
    for (const r of app.resources) {
      lines.push(paint('bold', `  ${RESOURCE_SIGN[r.status]} ${r.title}`));
      for (const line of r.diff.split('\n')) {
        const style = line.startsWith('@@') ? 'cyan' : line.startsWith('+') ? 'green' : line.startsWith('-') ? 'red' : 'dim';
        lines.push(`    ${paint(style, line)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function fence(diff: string): string {
  // A diff can contain ``` itself: fence with one backtick more than its longest run.
  const longest = Math.max(2, ...[...diff.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}diff\n${diff}\n${ticks}`;
}

function markdownResource(r: ResourceChange): string {
  return `#### ${RESOURCE_SIGN[r.status]} ${r.title} ${counts(r)}\n\n${fence(r.diff)}\n`;
}

function markdownSection(app: AppChange): string {
  return `<details><summary>${SIGN[app.status]} <b>${app.app}</b> ${counts(app)}: ${resourceCounts(app)}</summary>\n\n${app.resources.map(markdownResource).join('\n')}\n</details>\n`;
}

function cutSection(app: AppChange, size: number, labels: DiffLabels): string {
  return (
    `<details><summary>${SIGN[app.status]} <b>${app.app}</b> ${counts(app)}: ${resourceCounts(app)} (cut)</summary>\n\n` +
    `This section (${size.toLocaleString('en-US')} characters) does not fit in a comment. See it in full with ` +
    `\`platform diff --base ${labels.base} --format text\` or in the job log.\n</details>\n`
  );
}

/**
 * A pull-request comment: the summary, then one collapsible section per app with a heading per
 * resource and its unified diff. Over GitHub's limit, the summary stays whole and the largest
 * sections are cut, each with a notice saying how to see it in full.
 */
export function formatMarkdown(diff: TreeDiff, labels: DiffLabels, limit = GITHUB_COMMENT_LIMIT): string {
  const head = `${COMMENT_MARKER}\n### platform diff: \`${labels.base}\` → \`${labels.head}\`\n\n${summaryLines(diff).join('  \n')}\n`;
  const sections = diff.apps.map((app) => ({ app, text: markdownSection(app) }));
  const total = (parts: string[], notice: string) => head.length + notice.length + parts.reduce((n, p) => n + p.length + 1, 0);
  const rendered = sections.map((s) => s.text);
  let notice = '';
  const bySize = sections.map((s, i) => ({ i, size: s.text.length })).sort((a, b) => b.size - a.size || a.i - b.i);
  let cut = 0;
  for (const { i, size } of bySize) {
    if (total(rendered, notice) <= limit) break;
    const section = sections[i] as { app: AppChange; text: string };
    rendered[i] = cutSection(section.app, size, labels);
    cut += 1;
    notice = `\n_${cut} of ${sections.length} sections were cut to stay under GitHub's ${limit.toLocaleString('en-US')}-character comment limit._\n`;
  }
  const body = `${head}${notice}\n${rendered.join('\n')}`;
  if (body.length > limit) {
    // Even cut to stubs it is too long (thousands of apps): keep the summary alone.
    return `${head}\n_The per-app sections do not fit in a comment; run \`platform diff --base ${labels.base} --format text\` to see them._\n`;
  }
  return body;
}

export function formatJson(diff: TreeDiff, labels: DiffLabels): string {
  return `${JSON.stringify({ base: labels.base, head: labels.head, changed: diff.changed, summary: summaryLines(diff), apps: diff.apps }, null, 2)}\n`;
}

export function formatDiff(diff: TreeDiff, labels: DiffLabels, format: DiffFormat, color = false): string {
  if (format === 'markdown') return formatMarkdown(diff, labels);
  if (format === 'json') return formatJson(diff, labels);
  return formatText(diff, labels, color);
}
