import { z } from "zod";
import { describeZodError } from "../../../../shared/src/contracts/index.js";

/**
 * Container labels that opt a container into node QoS:
 * - `herd.qos.class=network` + `herd.qos.target-latency-ms=<ms>`: the PID guard keeps its latency
 *   (probed with TCP echoes on `herd.qos.probe-port`, default 7000, `herd.qos.probe-bytes`,
 *   default 16384) under the target by shaping its interface around `herd.qos.rate-mbit`
 *   (default 20 Mbit/s, the base share the controller's output shifts from).
 * - `herd.qos.class=storage`: the neighbour the guard takes capacity from, with a write limit
 *   around `herd.qos.write-mbps` (MB/s, default 20) never below `herd.qos.write-min-mbps` (default 2).
 * - `herd.share=fair`: ResCoin's credit fair share of CPU and memory, with `herd.share.weight`
 *   (default 1) and a guaranteed `herd.share.min-millicores` (default a tenth of its template).
 * Baselines (what the bench compares against): `herd.qos.guard=static` holds the base split
 * (no PID, no migration requests); `herd.share=static` holds each container at its template.
 */
export const LABELS = {
  qosClass: "herd.qos.class",
  target: "herd.qos.target-latency-ms",
  probePort: "herd.qos.probe-port",
  probeBytes: "herd.qos.probe-bytes",
  rateMbit: "herd.qos.rate-mbit",
  writeMbps: "herd.qos.write-mbps",
  writeMinMbps: "herd.qos.write-min-mbps",
  share: "herd.share",
  shareWeight: "herd.share.weight",
  shareMin: "herd.share.min-millicores",
  guard: "herd.qos.guard",
} as const;

const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

const NetworkLabels = z.object({
  [LABELS.target]: num(0.1, 60_000),
  [LABELS.probePort]: z.coerce.number().int().min(1).max(65_535).default(7000),
  [LABELS.probeBytes]: z.coerce.number().int().min(1).max(1_048_576).default(16_384),
  [LABELS.rateMbit]: num(0.1, 100_000).default(20),
  [LABELS.guard]: z.enum(["pid", "static"]).default("pid"),
});
const StorageLabels = z.object({
  [LABELS.writeMbps]: num(0.1, 100_000).default(20),
  [LABELS.writeMinMbps]: num(0, 100_000).default(2),
});
const FairLabels = z.object({
  [LABELS.shareWeight]: num(0.01, 10_000).default(1),
  [LABELS.shareMin]: num(0, 1_000_000).optional(),
});

export type QosOptIn =
  | { kind: "network"; targetMs: number; probePort: number; probeBytes: number; baseKbit: number; mode: "pid" | "static" }
  | { kind: "storage"; baseBps: number; minBps: number }
  | { kind: "fair"; weight: number; minMillicores: number | undefined; mode: "fair" | "static" };

export type LabelResult = { ok: true; optIns: QosOptIn[] } | { ok: false; error: string };

/** What a container's labels ask for (a container may be both guarded and fair-shared). */
export function parseQosLabels(labels: Readonly<Record<string, string>>): LabelResult {
  const optIns: QosOptIn[] = [];
  const cls = labels[LABELS.qosClass];
  const fail = (r: { error: z.ZodError }): LabelResult => {
    const { field, message } = describeZodError(r.error);
    return { ok: false, error: `label ${field}: ${message}` };
  };
  if (cls === "network") {
    const r = NetworkLabels.safeParse(labels);
    if (!r.success) return fail(r);
    optIns.push({
      kind: "network",
      targetMs: r.data[LABELS.target],
      probePort: r.data[LABELS.probePort],
      probeBytes: r.data[LABELS.probeBytes],
      baseKbit: r.data[LABELS.rateMbit] * 1000,
      mode: r.data[LABELS.guard],
    });
  } else if (cls === "storage") {
    const r = StorageLabels.safeParse(labels);
    if (!r.success) return fail(r);
    const base = r.data[LABELS.writeMbps] * 1_000_000;
    const min = r.data[LABELS.writeMinMbps] * 1_000_000;
    if (min > base) return { ok: false, error: `label ${LABELS.writeMinMbps}: must not exceed ${LABELS.writeMbps}` };
    optIns.push({ kind: "storage", baseBps: base, minBps: min });
  } else if (cls !== undefined) {
    return { ok: false, error: `label ${LABELS.qosClass}: must be "network" or "storage", got "${cls}"` };
  }
  const share = labels[LABELS.share];
  if (share === "fair" || share === "static") {
    const r = FairLabels.safeParse(labels);
    if (!r.success) return fail(r);
    optIns.push({ kind: "fair", weight: r.data[LABELS.shareWeight], minMillicores: r.data[LABELS.shareMin], mode: share });
  } else if (share !== undefined) {
    return { ok: false, error: `label ${LABELS.share}: must be "fair" or "static", got "${share}"` };
  }
  return { ok: true, optIns };
}
