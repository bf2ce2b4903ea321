import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { runTool, type ToolRunner } from "./run-tool.js";
import type { TrafficShaper } from "./traffic-shaper.js";

const IFACE = /^[A-Za-z0-9_.@-]{1,15}$/;
/** Handle and class of Herd's HTB tree: everything on the interface goes to 1:10. */
const CLASS = "1:10";

/**
 * TrafficShaper with `tc` HTB, run in the caller's network namespace (the agent runs in the
 * node's). The root qdisc is HTB with one class holding the rate as both rate and ceil, so the
 * interface gets exactly the rate the controller chose, no borrowing.
 */
export class TcHtbShaper implements TrafficShaper {
  constructor(
    private readonly log: Logger,
    private readonly run: ToolRunner = runTool,
    private readonly tcPath = "tc",
  ) {}

  async setRate(iface: string, rateKbit: number): Promise<void> {
    checkIface(iface);
    if (!(rateKbit >= 8) || !Number.isFinite(rateKbit)) throw new ValidationError("rateKbit", `must be at least 8 kbit/s, got ${rateKbit}`);
    const rate = `${Math.round(rateKbit)}kbit`;
    // Burst for ~10 ms at this rate (at least one full-size packet), so a rate change acts at once.
    const burst = `${Math.max(1600, Math.round((rateKbit * 1000) / 8 / 100))}b`;
    if ((await this.currentRate(iface)) === null) {
      await this.tc(["qdisc", "replace", "dev", iface, "root", "handle", "1:", "htb", "default", "10"]);
    }
    // HTB's default quantum (rate / r2q) exceeds its 200000-byte maximum above ~16 Mbit/s.
    const quantum = String(Math.min(200_000, Math.max(1514, Math.round((rateKbit * 1000) / 8 / 10))));
    await this.tc([
      "class",
      "replace",
      "dev",
      iface,
      "parent",
      "1:",
      "classid",
      CLASS,
      "htb",
      "rate",
      rate,
      "ceil",
      rate,
      "burst",
      burst,
      "cburst",
      burst,
      "quantum",
      quantum,
    ]);
    this.log.debug("tc rate set", { iface, rate });
  }

  async clear(iface: string): Promise<void> {
    checkIface(iface);
    const r = await this.run(this.tcPath, ["qdisc", "del", "dev", iface, "root"]);
    // "No such file or directory" / "Cannot delete qdisc with handle of zero": nothing installed;
    // "Cannot find device": the container (and its veth) is gone already.
    if (r.code !== 0 && !/No such file|handle of zero|Cannot find device|does not exist/i.test(r.stderr)) {
      throw new ExternalError(`tc qdisc del dev ${iface} root failed: ${r.stderr.trim()}`);
    }
    this.log.debug("tc cleared", { iface });
  }

  async currentRate(iface: string): Promise<number | null> {
    checkIface(iface);
    const r = await this.run(this.tcPath, ["class", "show", "dev", iface]);
    if (r.code !== 0) {
      if (/Cannot find device/i.test(r.stderr)) return null;
      throw new ExternalError(`tc class show dev ${iface} failed: ${r.stderr.trim()}`);
    }
    return parseHtbClassRate(r.stdout, CLASS);
  }

  private async tc(args: string[]): Promise<void> {
    const r = await this.run(this.tcPath, args);
    if (r.code !== 0) throw new ExternalError(`tc ${args.join(" ")} failed: ${r.stderr.trim()}`);
  }
}

function checkIface(iface: string): void {
  if (!IFACE.test(iface)) throw new ValidationError("iface", `not an interface name: "${iface}"`);
}

const UNITS: Record<string, number> = { bit: 1e-3, kbit: 1, mbit: 1e3, gbit: 1e6, tbit: 1e9 };

/**
 * The rate of one HTB class in kbit/s from `tc class show` ("class htb 1:10 root prio 0 rate
 * 20Mbit ceil 20Mbit …"; this iproute2 prints classes as text even with -j), or null when the
 * class is not there.
 */
export function parseHtbClassRate(text: string, classId: string): number | null {
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "class" || words[1] !== "htb" || words[2] !== classId) continue;
    const at = words.indexOf("rate");
    const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(words[at + 1] ?? "");
    const unit = UNITS[(m?.[2] ?? "").toLowerCase()];
    if (at < 0 || m === null || unit === undefined) throw new ExternalError(`unreadable tc class line: ${line.trim()}`);
    return Math.round(Number(m[1]) * unit);
  }
  return null;
}
