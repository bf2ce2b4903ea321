import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../shared/src/errors.js";
import { submissionFrom } from "./jobs-commands.js";

describe("herd jobs submit: the submission from flags or a file", () => {
  it("builds one container from flags", () => {
    const s = submissionFrom({ image: "herd/workload:latest", cpus: 0.5, memory: 64, env: { A: "1" }, priority: 3, output: "table" }, ["sleep", "5"]);
    assert.deepEqual(s, {
      name: "herd-workload-latest",
      priority: 3,
      containers: [{ image: "herd/workload:latest", cmd: ["sleep", "5"], cpus: 0.5, memoryMb: 64, env: { A: "1" } }],
    });
  });
  it("names the missing reservation flag", () => {
    assert.throws(
      () => submissionFrom({ image: "img", memory: 64, output: "table" }, []),
      (e: unknown) => e instanceof ValidationError && e.field === "--cpus",
    );
    assert.throws(
      () => submissionFrom({ image: "img", cpus: 1, output: "table" }, []),
      (e: unknown) => e instanceof ValidationError && e.field === "--memory",
    );
    assert.throws(
      () => submissionFrom({ output: "table" }, []),
      (e: unknown) => e instanceof ValidationError && e.field === "image",
    );
  });
  it("reads a job file, flags override its priority and policy, bad fields are named", () => {
    const file = JSON.stringify({ name: "etl", containers: [{ image: "img", cpus: 1, memoryMb: 32 }] });
    const s = submissionFrom({ file: "job.json", priority: 9, policy: "ffd", output: "table" }, [], () => file);
    assert.equal(s.priority, 9);
    assert.equal(s.policy, "ffd");
    assert.deepEqual(s.containers[0], { image: "img", cmd: [], cpus: 1, memoryMb: 32, env: {} });
    assert.throws(
      () =>
        submissionFrom({ file: "job.json", output: "table" }, [], () => JSON.stringify({ name: "x", containers: [{ image: "img", cpus: 100, memoryMb: 32 }] })),
      (e: unknown) => e instanceof ValidationError && e.field === "job.containers.0.cpus",
    );
    assert.throws(
      () => submissionFrom({ file: "job.json", output: "table" }, [], () => "{nope"),
      (e: unknown) => e instanceof ValidationError && e.field === "-f",
    );
  });
});
