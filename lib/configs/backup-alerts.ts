import type { Platform } from '../model/platform.js';
import type { Target } from '../model/service.js';
import { backupPlan, byNamespace } from '../services/backup.js';
import type { AlertRule } from './prometheus.js';

/** A backup older than this alerts: the daily schedule plus two hours of slack for a slow run. */
export const BACKUP_MAX_AGE_HOURS = 26;

/**
 * The backup's alerts, from the metrics its scripts leave for node-exporter's textfile collector
 * (`platform_backup_*`, labels `backup` (the job), `destination`; the scrape adds `node`): the
 * last successful backup older than 26 hours (a job that never succeeded reports 0, so it fires
 * too), and a restore test that failed.
 */
export function backupAlertRules(platform: Platform, target: Target): AlertRule[] {
  const plan = backupPlan(platform);
  const first = plan?.nodes[0];
  const destination = plan?.destinations[0];
  if (!plan || !first || !destination) return [];
  const job = target === 'k3s' ? (byNamespace(first)[0]?.name ?? first.name) : first.name;
  const labels = { backup: job, destination: destination.name, node: first.node.name };
  const series = (name: string) => `${name}{backup="${job}",destination="${destination.name}",node="${first.node.name}"}`;
  // The last success 27 hours before the test's clock starts (promtool's time 0), so the proof needs no day of samples.
  const longAgo = -(BACKUP_MAX_AGE_HOURS + 1) * 3600;
  return [
    {
      alert: 'BackupTooOld',
      expr: `time() - platform_backup_last_success_timestamp_seconds > ${BACKUP_MAX_AGE_HOURS} * 3600`,
      for: '10m',
      severity: 'critical',
      summary: `Last successful backup of {{ $labels.backup }} to {{ $labels.destination }} is older than ${BACKUP_MAX_AGE_HOURS} hours`,
      proof: {
        // Failing: the last success was 27 hours ago and none followed. Healthy: it succeeded a minute ago, every minute.
        failing: { [series('platform_backup_last_success_timestamp_seconds')]: `${longAgo}x40` },
        healthy: { [series('platform_backup_last_success_timestamp_seconds')]: '0+60x40' },
        labels,
        evalAfter: '30m',
      },
    },
    {
      alert: 'BackupVerifyFailed',
      expr: 'platform_backup_verify_last_run_success == 0',
      for: '5m',
      severity: 'critical',
      summary: 'Restore test of {{ $labels.backup }} from {{ $labels.destination }} failed: the repository or a database dump does not restore',
      proof: {
        failing: { [series('platform_backup_verify_last_run_success')]: '0x40' },
        healthy: { [series('platform_backup_verify_last_run_success')]: '1x40' },
        labels,
        evalAfter: '30m',
      },
    },
  ];
}
