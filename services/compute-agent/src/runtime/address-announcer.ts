import { stat } from "node:fs/promises";
import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";

/**
 * Tells the cluster segment where an address now lives, after a container kept its address
 * across a move (or came back to its source on a rollback): the switch (the cluster bridge)
 * learns the MAC's new port and peers refresh their neighbour entries. Best effort by contract:
 * the restored container's own traffic does the same a moment later; a failure is logged, never
 * thrown.
 */
export interface AddressAnnouncer {
  announce(containerPid: number, address: string): Promise<void>;
}

/** Unsolicited ARP from inside the container's network namespace (busybox arping on the host). */
export class ArpingAddressAnnouncer implements AddressAnnouncer {
  constructor(
    private readonly log: Logger,
    private readonly o: {
      run?: ProcessRunner;
      procRoot?: string;
      busybox?: string;
      iface?: string;
      timeoutMs?: number;
      repeatAfterMs?: number[];
      /** Identity of a process's network namespace (its nsfs inode), undefined once the process is gone. */
      namespaceOf?: (nsPath: string) => Promise<number | undefined>;
    } = {},
  ) {}

  /**
   * One ARP now (awaited: it is quick), then two more in the background at +1 s and +3 s. A
   * single frame can be lost, and a server that only answers never sends anything of its own:
   * until the bridge learns the new port, its peers' packets go to the old node, and a kept
   * connection stalls until the bridge's entry ages out (minutes).
   */
  async announce(containerPid: number, address: string): Promise<void> {
    const namespace = await this.namespaceOf(containerPid);
    await this.announceOnce(containerPid, address);
    if (namespace === undefined) return;
    for (const after of this.o.repeatAfterMs ?? [1_000, 3_000]) {
      setTimeout(() => void this.repeat(containerPid, address, namespace), after).unref();
    }
  }

  /**
   * A repeat only goes out from the namespace the first announcement used. By then the container
   * may have been dumped again or stopped (its address may already live on another node), and
   * its pid may even belong to another process: announcing from there would claim the address
   * for the wrong place.
   */
  private async repeat(containerPid: number, address: string, namespace: number): Promise<void> {
    if ((await this.namespaceOf(containerPid)) !== namespace) {
      this.log.debug("Address announcement repeat skipped: the container's process has gone", { address, containerPid });
      return;
    }
    await this.announceOnce(containerPid, address);
  }

  private namespaceOf(containerPid: number): Promise<number | undefined> {
    const nsPath = `${this.o.procRoot ?? "/proc"}/${containerPid}/ns/net`;
    return (this.o.namespaceOf ?? namespaceInode)(nsPath);
  }

  private async announceOnce(containerPid: number, address: string): Promise<void> {
    const run = this.o.run ?? runProcess;
    const args = [
      `--net=${this.o.procRoot ?? "/proc"}/${containerPid}/ns/net`,
      this.o.busybox ?? "busybox",
      "arping",
      "-U",
      // One unsolicited ARP per call (arping waits 1 s between probes; the repeats are timers).
      "-c",
      "1",
      "-w",
      "1",
      "-I",
      this.o.iface ?? "eth0",
      address,
    ];
    try {
      const r = await run("nsenter", args, { timeoutMs: this.o.timeoutMs ?? 5_000 });
      if (r.code !== 0) {
        this.log.warn("Gratuitous ARP failed", { address, containerPid, exitCode: r.code, stderr: r.stderr.trim() });
        return;
      }
      this.log.debug("Announced address", { address, containerPid });
    } catch (err) {
      this.log.warn("Gratuitous ARP failed", { address, containerPid, error: errorMessage(err) });
    }
  }
}

async function namespaceInode(nsPath: string): Promise<number | undefined> {
  try {
    return (await stat(nsPath)).ino;
  } catch {
    return undefined;
  }
}
