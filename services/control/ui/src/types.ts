// The live stream's and the REST API's shapes as the page reads them. The server's own types live
// in services/control/src (feed-frames.ts, migration-record.ts, …); a unit test there
// (services/control/src/ui/feed-types.test.ts) checks at compile time that these stay compatible.
export type Sample = [number, number, number];

export interface FeedNode {
  id: string;
  status: "up" | "down";
  address?: string;
  cpuCores?: number;
  cpuPct?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  containers: number;
  lastSeenAt?: number;
}

export interface FeedContainer {
  id: string;
  name: string;
  nodeId: string;
  image: string;
  state: string;
  cpuPct: number;
  memBytes: number;
  memLimitBytes: number | null;
  updatedAt: number;
}

export interface StepRecord {
  name: string;
  node: string;
  startedAt: number;
  finishedAt?: number;
  ok?: boolean;
  bytes?: number;
  error?: string;
}

export interface FeedMigration {
  id: string;
  containerId: string;
  containerName: string;
  source: string;
  destination: string;
  state: "running" | "rolling-back" | "committed" | "rolled-back" | "failed";
  step: string;
  steps: StepRecord[];
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  frozen: boolean;
  frozenAt?: number;
  frozenMs?: number;
  totalMs?: number;
  bytes: number;
  live?: { step: string; bytes?: number; totalBytes?: number; message?: string; at: number };
  error?: { message: string };
  reason?: string;
}

export interface HelloFrame {
  t: number;
  nodes: FeedNode[];
  containers: FeedContainer[];
  migrations: FeedMigration[];
  history: { nodes: Record<string, Sample[]>; containers: Record<string, Sample[]> };
}

export interface TickFrame {
  t: number;
  nodes: FeedNode[];
  upsert: FeedContainer[];
  removed: string[];
  samples: Record<string, Sample>;
  nodeSamples: Record<string, Sample>;
  migrations: FeedMigration[];
}

export interface Move {
  containerId: string;
  from: string;
  to: string;
  reason: string;
}

export interface PlanReport {
  policy: string;
  args: unknown;
  at: number;
  nodes: Array<{ id: string; up: boolean; cpuPct: number; memPct: number; containers: number }>;
  proposals: Move[];
  planned: { allowed: Move[]; rejected: Array<{ move: Move; why: string }> };
  forecastModels: Record<string, string>;
  tookMs?: { listing: number; series: number; forecast: number; decide: number };
}

export interface ForecastReport {
  name: string;
  nodeId: string;
  stepSec: number;
  points: number;
  ranking: Array<{ feature: string; importance: number }>;
  selected: string[];
  models: Array<{ name: string; available: boolean; reason?: string; forecast: number[]; validation: { mae: number; rmse: number } }>;
  chosen: { name: string; reason: string };
  /** The model the control loop forecasts each step ahead with (index 0 = one step). */
  perHorizon: string[];
  forecast: number[];
  backtest: { horizon: number; points: Array<{ t?: number; actual: number; forecasts: Record<string, number> }>; mae: Record<string, number> };
}

export interface DryRunReport {
  wouldMigrate: boolean;
  container: string;
  source?: string;
  destination: string;
  reasons: string[];
  steps: string[];
}
