import type { z } from "zod";
import type { ClusterSnapshot, ProposedMove } from "./cluster-snapshot.js";

/**
 * A placement policy: a pure function of a snapshot. Contract: never throws on a valid snapshot,
 * never mutates it, never proposes a move of a migrating container or off/onto a down node, and
 * proposes at most one move per container. It does not start anything: the move planner does.
 */
export interface PlacementPolicy {
  readonly name: string;
  propose(snapshot: ClusterSnapshot): ProposedMove[];
}

/** A policy plugin: its name, its argument schema (with defaults) and a factory. */
export interface PolicyPlugin<A = unknown> {
  readonly name: string;
  readonly description: string;
  readonly argsSchema: z.ZodType<A>;
  create(args: A): PlacementPolicy;
}
