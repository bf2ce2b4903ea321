import { mkdir, readdir, readlink, rename, rm, symlink, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Why Docker's checkpoint dir holds links, not the images, when a container is restored.
 *
 * `docker start --checkpoint` (Docker 20.10 and later alike) does not hand the checkpoint dir to
 * runc: dockerd tars the dir into containerd's content store, and containerd untars it into a
 * fresh temp dir before the shim runs `runc restore` on that copy. For 512 MB of memory that is
 * two full copies of the pages through the disk — 16 of the 19 s a container was frozen.
 *
 * So before the start, the image files move (a rename, same filesystem) to a sibling dir and the
 * checkpoint dir gets one symlink per file. The tar then carries only the links (a few KB), and
 * CRIU opens the real files through them. The links are relative, climbing to `/` first: CRIU
 * opens images relative to its image-dir fd after it has entered the container's mount namespace,
 * where an absolute target would resolve inside the container's root; a relative walk from the
 * dir fd stays on the host's tree, and surplus `..` at `/` are no-ops wherever containerd put its
 * temp dir. Docker does everything else of the start itself (network, log stream, state), so its
 * view of the container stays exactly what a normal restore gives.
 */

/** More `..` than any temp dir containerd unpacks into is deep (`..` at `/` stays at `/`). */
const CLIMB = "../".repeat(32);

/** The link target that reaches `absolute` from any directory of the host's tree. */
export function rootRelativeTarget(absolute: string): string {
  if (!absolute.startsWith("/")) throw new Error(`not an absolute path: ${absolute}`);
  return CLIMB + absolute.replace(/^\/+/, "");
}

/**
 * Where the real files of Docker checkpoint dir `<data-root>/containers/<id>/checkpoints/<name>`
 * live once linked: `<data-root>/containers/<id>/herd-images/<name>`. Inside the container's own
 * dir (removed with the container) and outside `checkpoints/` (not listed as a checkpoint).
 */
export function linkedImagesDir(checkpointDir: string): string {
  return join(dirname(dirname(checkpointDir)), "herd-images", basename(checkpointDir));
}

/**
 * Moves the regular files of `checkpointDir` to {@link linkedImagesDir} and puts a link to each in
 * their place. Idempotent and safe to re-run after a crash at any point: files already moved get
 * their link (again). Returns how many files are linked.
 */
export async function linkCheckpointImages(checkpointDir: string): Promise<number> {
  const store = linkedImagesDir(checkpointDir);
  await mkdir(store, { recursive: true });
  for (const e of await readdir(checkpointDir, { withFileTypes: true })) {
    if (e.isFile()) await rename(join(checkpointDir, e.name), join(store, e.name));
  }
  const files = await readdir(store);
  for (const name of files) {
    const link = join(checkpointDir, name);
    const target = rootRelativeTarget(join(store, name));
    const current = await readlink(link).catch(() => undefined);
    if (current === target) continue;
    if (current !== undefined) await unlink(link);
    await symlink(target, link);
  }
  return files.length;
}

/**
 * containerd unpacks the checkpoint it was handed into `<tmp>/ctrd-checkpoint<random>` for the
 * restore and leaves that dir behind (seen: one per restore, 11 GB in /tmp of this machine after a
 * day of tests). Once the restore has finished, the copies whose links lead into this checkpoint's
 * image store are removed; nothing else in `tmp` is touched. Returns how many were removed. A tmp
 * dir that cannot be read (e.g. an agent in a container without the host's /tmp) removes nothing.
 */
export async function removeUnpackedCopies(tmp: string, checkpointDir: string): Promise<number> {
  const store = linkedImagesDir(checkpointDir);
  const entries = await readdir(tmp, { withFileTypes: true }).catch(() => []);
  let removed = 0;
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith("ctrd-checkpoint")) continue;
    const copy = join(tmp, e.name);
    const target = await readlink(join(copy, "inventory.img")).catch(() => undefined);
    if (target === undefined || !target.endsWith(join(store, "inventory.img").replace(/^\/+/, ""))) continue;
    await rm(copy, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
