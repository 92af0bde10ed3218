import { readFileSync, statfsSync } from 'node:fs';

/** linux/magic.h: the `f_type` statfs(2) reports for a tmpfs. */
const TMPFS_MAGIC = 0x01021994;

/**
 * /dev/shm when it is a RAM-backed file system (tmpfs, as on Linux) with `room` bytes free that
 * lets programs run from it, else undefined. Tests that write many files or run servers put them
 * there: the bytes, modes and renames are the same as on a disk, only cheaper. A container's
 * /dev/shm is often 64 MB and `noexec` (Docker's defaults), where the tests' stand-in programs
 * could not run: then the caller keeps the temp folder.
 */
export function ramDisk(room: number): string | undefined {
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < room) return undefined;
    // /proc/mounts: `<device> <mount point> <type> <options> 0 0`; the last mount at a point is the one in effect.
    const options = readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ')).filter((fields) => fields[1] === '/dev/shm').pop()?.[3];
    return options !== undefined && !options.split(',').includes('noexec') ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}
