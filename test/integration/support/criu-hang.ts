// Fault injection for the tests: a CRIU that hangs the way one was seen to on a fresh machine
// (pages written, parasite cured, the task still seized and frozen — and then nothing).
// CRIU runs an action script at fixed points of a dump; the one installed here sleeps at
// "post-dump", i.e. exactly in that state, once after `armCriuHang()` (runc hands CRIU its image
// dir as a file descriptor, so the script cannot tell containers apart). runc passes
// /etc/criu/runc.conf to CRIU on every checkpoint and restore, which is where the script is named.
import { appendFile, chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";

const DIR = "/run/herd-test";
const SCRIPT = `${DIR}/criu-action.sh`;
const MARKER = `${DIR}/criu-hang-once`;
const CONF = "/etc/criu/runc.conf";
const LINE = `action-script ${SCRIPT}`;

export async function installCriuHangHook(): Promise<() => Promise<void>> {
  await mkdir(DIR, { recursive: true });
  await writeFile(
    SCRIPT,
    `#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = "post-dump" ] || exit 0
if rm "${MARKER}" 2>/dev/null; then exec sleep 3600; fi
exit 0
`,
  );
  await chmod(SCRIPT, 0o755);
  await mkdir("/etc/criu", { recursive: true });
  const before = await readFile(CONF, "utf8").catch(() => undefined);
  if (!before?.split("\n").includes(LINE)) await appendFile(CONF, `${before && !before.endsWith("\n") ? "\n" : ""}${LINE}\n`);
  return async () => {
    const now = await readFile(CONF, "utf8").catch(() => "");
    const rest = now
      .split("\n")
      .filter((l) => l !== LINE)
      .join("\n");
    if (rest.trim() === "" && before === undefined) await rm(CONF, { force: true });
    else await writeFile(CONF, rest);
    await rm(MARKER, { force: true });
  };
}

/** The next dump anywhere on this machine hangs at post-dump. */
export async function armCriuHang(): Promise<void> {
  await mkdir(DIR, { recursive: true });
  await writeFile(MARKER, "");
}

export async function criuHangArmed(): Promise<boolean> {
  return readFile(MARKER).then(
    () => true,
    () => false,
  );
}
