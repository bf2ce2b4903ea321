import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The whole-disk "major:minor" holding `path` (throttling rules name disks, not partitions): the
 * device of the file system, and if that is a partition, the disk it belongs to.
 */
export function blockDeviceOf(path: string, sysRoot = "/sys"): string {
  const dev = statSync(path).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((Math.floor(dev / 1048576) & 0xfff) << 8);
  const id = `${major}:${minor}`;
  const sysDir = join(sysRoot, "dev", "block", id);
  if (!existsSync(join(sysDir, "partition"))) return id;
  const parentDev = join(dirname(realpathSync(sysDir)), "dev");
  return readFileSync(parentDev, "utf8").trim();
}
