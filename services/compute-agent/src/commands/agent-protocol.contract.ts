import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { commandResults, type CommandPayload, type CommandType } from "../../../../shared/src/contracts/index.js";
import { ContainerSpec } from "../../../../shared/src/contracts/container-spec.js";
import type { PeerWire } from "../../../../shared/src/contracts/migration-protocol.js";
import type { TypedCommandResult } from "../../../control/src/commands/command-client.js";

/** What the contract needs from an agent pair: a way to send commands, and eyes on the engines. */
export interface AgentProtocolHarness {
  source: string;
  destination: string;
  send<T extends CommandType>(node: string, type: T, payload: CommandPayload<T>, opts: { commandId: string }): Promise<TypedCommandResult<T>>;
  /** The destination's transfer endpoint, as control would put it in a step's `peer`. */
  peerOf(node: string): PeerWire;
  /** Starts a running, migratable container named `name` on the source; resolves to its id. */
  runContainer(name: string): Promise<string>;
  /** The containers named `name` on `node`. */
  copies(node: string, name: string): Promise<Array<{ id: string; running: boolean }>>;
  /** Removes every container named `name` on both nodes. */
  removeAll(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The agent side of the migration saga's protocol (shared/src/contracts/migration-protocol.ts),
 * as every agent must behave: run against the in-memory agent (unit) and against the real agent
 * on two real engines with CRIU and rsync (test/integration/agent-protocol.test.ts), so the
 * in-memory agent the orchestrator's tests use cannot drift from the real one.
 */
export function agentProtocolContract(name: string, open: () => Promise<AgentProtocolHarness>, opts: { timeout?: number } = {}): void {
  describe(`agent protocol contract: ${name}`, { timeout: opts.timeout ?? 60_000 }, () => {
    let h: AgentProtocolHarness;
    before(async () => {
      h = await open();
    });
    after(async () => {
      await h?.close();
    });

    const tag = () => randomBytes(3).toString("hex");

    /** Sends, asserts success and a result that validates, then re-sends the same id and expects the very same answer. */
    async function ok<T extends CommandType>(node: string, type: T, payload: CommandPayload<T>, commandId: string) {
      const r = await h.send(node, type, payload, { commandId });
      assert.ok(r.ok, `${type} on ${node} failed: ${r.ok ? "" : r.error.message}`);
      assert.equal(r.commandId, commandId);
      assert.equal(r.nodeId, node, "answered by the node it was sent to");
      commandResults[type].parse(r.result);
      const again = await h.send(node, type, payload, { commandId });
      assert.deepEqual(again, r, `${type} re-sent with the same id is answered from the journal, not run again`);
      return r.result;
    }

    const runningOn = async (node: string, name: string) => (await h.copies(node, name)).filter((c) => c.running).length;

    /** describe → prepare (shipping the image if the destination lacks it) → precopy → freeze. */
    async function prepareAndFreeze(name: string, mig: string) {
      const { source, destination } = h;
      const spec = await ok(source, "migration.describe", { migrationId: mig, container: name }, `${mig}.describe`);
      let prepared = await ok(destination, "migration.prepare", { migrationId: mig, spec }, `${mig}.prepare.1`);
      if (prepared.needsImage) {
        await ok(source, "migration.ship-image", { migrationId: mig, spec, peer: h.peerOf(destination) }, `${mig}.ship-image`);
        prepared = await ok(destination, "migration.prepare", { migrationId: mig, spec }, `${mig}.prepare.2`);
      }
      assert.equal(prepared.needsImage, false, "after the image was shipped the destination has it");
      if (prepared.needsImage) throw new Error("unreachable");
      assert.equal(await runningOn(destination, name), 0, "the prepared copy is created, not started");
      const pre = await ok(source, "migration.precopy", { migrationId: mig, spec, peer: h.peerOf(destination) }, `${mig}.precopy`);
      assert.ok(pre.bytes > 0, "precopy sent the writable layer and volume");
      assert.equal(await runningOn(source, name), 1, "precopy leaves the source running");
      const frozen = await ok(source, "migration.freeze", { migrationId: mig, spec, peer: h.peerOf(destination) }, `${mig}.freeze`);
      assert.equal(await runningOn(source, name), 0, "freeze stops the source");
      assert.equal(await runningOn(destination, name), 0);
      assert.equal(frozen.checkpointName, `herd-${mig}`);
      return { spec, containerId: prepared.containerId, frozen };
    }

    test("describe returns the container's spec, which validates; a missing container is refused, not retryable", async () => {
      const name = `pc-desc-${tag()}`;
      const id = await h.runContainer(name);
      try {
        const spec = await ok(h.source, "migration.describe", { migrationId: `d-${tag()}`, container: name }, `d-${tag()}.describe`);
        ContainerSpec.parse(spec);
        assert.equal(spec.name, name);
        assert.equal(spec.id, id);
        assert.equal(spec.state.running, true);
        const missing = await h.send(
          h.source,
          "migration.describe",
          { migrationId: `d-${tag()}`, container: `no-such-${tag()}` },
          { commandId: `missing-${tag()}` },
        );
        assert.equal(missing.ok, false);
        if (!missing.ok) {
          assert.equal(missing.error.code, "NOT_FOUND");
          assert.equal(missing.error.retryable, false);
        }
      } finally {
        await h.removeAll(name);
      }
    });

    test("forward: the container ends up running on the destination only, every answer valid and idempotent", async () => {
      const name = `pc-fwd-${tag()}`;
      const mig = `pcf${tag()}`;
      await h.runContainer(name);
      try {
        const { source, destination } = h;
        const { spec, containerId, frozen } = await prepareAndFreeze(name, mig);
        const restored = await ok(
          destination,
          "migration.restore",
          { migrationId: mig, spec, containerId, checkpointName: frozen.checkpointName },
          `${mig}.restore.1`,
        );
        assert.equal(restored.already, false);
        assert.ok(restored.runningAt >= frozen.frozenAt, "running on the destination after the dump started");
        assert.equal(await runningOn(destination, name), 1, "restore starts the destination copy");
        assert.equal(await runningOn(source, name), 0, "the source stays stopped");
        // Asked again under a new attempt id: it happened, and says when.
        const again = await ok(
          destination,
          "migration.restore",
          { migrationId: mig, spec, containerId, checkpointName: frozen.checkpointName },
          `${mig}.restore.2`,
        );
        assert.equal(again.already, true);
        assert.equal(await runningOn(destination, name), 1);
        const verified = await ok(destination, "migration.verify", { migrationId: mig, containerId, settleMs: 200 }, `${mig}.verify`);
        assert.equal(verified.running, true);
        const finished = await ok(destination, "migration.finish-destination", { migrationId: mig, spec, containerId }, `${mig}.finish`);
        assert.equal(finished.containerId, containerId);
        const removed = await ok(source, "migration.remove-source", { migrationId: mig, spec }, `${mig}.commit`);
        assert.equal(removed.removed, spec.id);
        assert.deepEqual(await h.copies(source, name), [], "the source copy is gone");
        assert.deepEqual(
          (await h.copies(destination, name)).map((c) => c.running),
          [true],
          "exactly one copy, running on the destination",
        );
      } finally {
        await h.removeAll(name);
      }
    });

    test("rollback after freeze: abort-destination removes the copy, resume-source runs the source again from its checkpoint", async () => {
      const name = `pc-rb-${tag()}`;
      const mig = `pcr${tag()}`;
      await h.runContainer(name);
      try {
        const { source, destination } = h;
        const { spec, containerId } = await prepareAndFreeze(name, mig);
        const aborted = await ok(destination, "migration.abort-destination", { migrationId: mig, containerId }, `${mig}.abort-destination.1`);
        assert.ok(aborted.removed.includes(containerId), "the prepared copy is among what was removed");
        assert.deepEqual(await h.copies(destination, name), [], "no copy left on the destination");
        const resumed = await ok(source, "migration.resume-source", { migrationId: mig, spec, frozen: true }, `${mig}.resume-source.1`);
        assert.equal(resumed.resumed, true);
        assert.equal(resumed.fromCheckpoint, `herd-${mig}`, "resumed from its own checkpoint (memory kept)");
        assert.equal(await runningOn(source, name), 1);
        // A second resume (new attempt) finds it running and changes nothing.
        const twice = await ok(source, "migration.resume-source", { migrationId: mig, spec, frozen: true }, `${mig}.resume-source.2`);
        assert.equal(twice.resumed, false);
        assert.equal(twice.fromCheckpoint, null);
        assert.equal(await runningOn(source, name), 1);
      } finally {
        await h.removeAll(name);
      }
    });

    test("abort-destination with nothing created succeeds and removes nothing", async () => {
      const mig = `pca${tag()}`;
      const r = await ok(h.destination, "migration.abort-destination", { migrationId: mig }, `${mig}.abort-destination.1`);
      assert.deepEqual(r.removed, []);
    });
  });
}
