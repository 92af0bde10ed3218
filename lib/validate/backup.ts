import type { Platform } from '../model/platform.js';
import { backupPlan } from '../services/backup.js';
import type { Finding } from './finding.js';

/** Where the platform's data lives on a node, per target: a backup kept under one of these is on the data's disk. */
function dataRoots(platform: Platform): string[] {
  const roots = ['/var/lib/docker', '/var/lib/rancher'];
  if (platform.config.storage.mode === 'bind') roots.push(platform.config.storage.root);
  return roots;
}

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/**
 * A backup whose every destination is a folder on the disk that holds the data dies with that
 * disk. The config cannot see disks, only paths: a folder under the data's own root (bind mode's
 * `storage.root`, Docker's or k3s's data folder) is that disk.
 */
export function backupSameDisk(platform: Platform): Finding[] {
  const plan = backupPlan(platform);
  if (!plan) return [];
  if (plan.destinations.some((d) => d.remote)) return [];
  const roots = dataRoots(platform);
  const local = plan.destinations.filter((d) => d.hostPath !== undefined);
  if (local.length === 0 || !local.every((d) => roots.some((r) => under(d.hostPath as string, r)))) return [];
  return local.map((d) => ({
    rule: 'backup-same-disk',
    severity: 'warning' as const,
    path: ['backup', 'destinations', d.name, 'path'],
    message: `every backup destination is on the disk that holds the data: ${d.hostPath} is under ${roots.find((r) => under(d.hostPath as string, r))}; losing that disk loses the data and its backups`,
    fix: 'add a destination on another disk or machine (a NAS mount, an S3 bucket: backup.destinations.<name>.s3), or move this one to a separate disk',
  }));
}
