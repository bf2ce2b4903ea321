import type { WorkloadImage } from "./node-engine.js";

/**
 * What the cluster needs from the host: the broker and Redis running, the workload image built,
 * and Herd's Redis keys removable. Host services are shared: `down` never stops them.
 */
export interface HostServices {
  ensureRunning(): Promise<void>;
  /** The password of Herd's Redis ACL user, once `ensureRunning` set it up; undefined = Redis without ACL. */
  redisPassword(): string | undefined;
  buildWorkloadImage(): Promise<WorkloadImage>;
  /** Deletes every Redis key under Herd's prefix; returns how many. */
  flushHerdKeys(): Promise<number>;
}
