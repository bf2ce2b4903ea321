import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapDockerStats, type DockerStatsJson } from "./docker-stats-metric-source.js";

const ID = "a4362f03d67350facefa58b46a413103b3902530de9f197506e87da1a4beccdb";
const NODE_MEM = 25_276_514_304;

/** Recorded from Docker 20.10 on cgroup v1 (this machine): `docker run -m 16m --network none ... sleep`. */
const RECORDED_V1: DockerStatsJson = JSON.parse(
  '{"read":"2026-11-21T23:26:48.592554684Z","pids_stats":{"current":1},"blkio_stats":{"io_service_bytes_recursive":[],"io_serviced_recursive":[]},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":22479812,"percpu_usage":[808181,21671631],"usage_in_kernelmode":0,"usage_in_usermode":10000000},"system_cpu_usage":1208350000000,"online_cpus":2},"memory_stats":{"usage":323584,"max_usage":3821568,"stats":{"active_anon":4096,"active_file":0,"cache":0,"hierarchical_memory_limit":16777216,"inactive_file":4096,"total_inactive_file":8192,"rss":49152},"limit":16777216},"name":"/idle","id":"a4362f03d67350facefa58b46a413103b3902530de9f197506e87da1a4beccdb"}',
);

/** The cgroup v2 shape: inactive_file without total_, lowercase ops, networks present. */
const V2_SHAPE: DockerStatsJson = {
  cpu_stats: { cpu_usage: { total_usage: 5_000_000 } },
  memory_stats: { usage: 1_000_000, limit: NODE_MEM, stats: { inactive_file: 200_000, anon: 700_000 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: "read", value: 10 },
      { op: "write", value: 20 },
      { op: "read", value: 1 },
    ],
  },
  networks: { eth0: { rx_bytes: 100, tx_bytes: 50 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
  pids_stats: { current: 4 },
};

describe("mapDockerStats", () => {
  const cases: Array<{ name: string; json: DockerStatsJson; want: Record<string, unknown> }> = [
    {
      name: "recorded v1 answer: total_inactive_file, real limit, no networks, empty blkio",
      json: RECORDED_V1,
      want: {
        cpuUsageNs: 22479812,
        memBytes: 323584 - 8192,
        memLimitBytes: 16777216,
        blkReadBytes: 0,
        blkWriteBytes: 0,
        netRxBytes: 0,
        netTxBytes: 0,
        pids: 1,
      },
    },
    {
      name: "v2 shape: inactive_file, node-sized limit means none, sums devices and interfaces",
      json: V2_SHAPE,
      want: { cpuUsageNs: 5_000_000, memBytes: 800_000, memLimitBytes: null, blkReadBytes: 11, blkWriteBytes: 20, netRxBytes: 101, netTxBytes: 52, pids: 4 },
    },
    {
      name: "a stopped container's empty answer maps to zeros",
      json: { blkio_stats: { io_service_bytes_recursive: null } },
      want: { cpuUsageNs: 0, memBytes: 0, memLimitBytes: null, blkReadBytes: 0, pids: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = mapDockerStats(c.json, { id: ID, pid: 42 }, 7, NODE_MEM);
      assert.equal(got.id, ID);
      assert.equal(got.pid, 42);
      assert.equal(got.atMs, 7);
      for (const [key, value] of Object.entries(c.want)) assert.equal(got[key as keyof typeof got], value, key);
    });
  }
});
