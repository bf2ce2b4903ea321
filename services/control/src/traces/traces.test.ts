import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listPlanetLabDays, readPlanetLabDay } from "./planetlab.js";
import { readAlibabaMachineUsage } from "./alibaba.js";
import { TraceFormatError } from "./trace-format-error.js";
import { ValidationError } from "../../../../shared/src/errors.js";

let root: string;
const day = (vals: (number | string)[]) => vals.join("\n") + "\n";
const ramp = Array.from({ length: 288 }, (_, i) => i % 101);

before(async () => {
  root = await mkdtemp(join(tmpdir(), "herd-traces-"));
  await mkdir(join(root, "pl", "20110303"), { recursive: true });
  await mkdir(join(root, "pl", "20110306"), { recursive: true });
  await mkdir(join(root, "pl", "notaday"), { recursive: true });
  await writeFile(join(root, "pl", "20110303", "b_vm"), day(ramp));
  await writeFile(join(root, "pl", "20110303", "a vm with space"), day(ramp.map(() => 7)));
});
after(async () => rm(root, { recursive: true, force: true }));

async function expectTraceError(p: Promise<unknown>, file: string, line: number | undefined, what: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TraceFormatError, `expected TraceFormatError, got ${String(err)}`);
    assert.ok(err instanceof ValidationError);
    assert.equal(err.file, file);
    assert.equal(err.line, line);
    const prefix = line === undefined ? `${file}: ` : `${file}:${line}: `;
    assert.ok(err.message.startsWith(prefix), `message "${err.message}" should start with "${prefix}"`);
    assert.match(err.message, what);
    return true;
  });
}

describe("PlanetLab reader", () => {
  test("lists only YYYYMMDD folders, sorted", async () => {
    assert.deepEqual(await listPlanetLabDays(join(root, "pl")), ["20110303", "20110306"]);
  });
  test("reads a day sorted by file name, keeps names with spaces", async () => {
    const d = await readPlanetLabDay(join(root, "pl", "20110303"));
    assert.equal(d.day, "20110303");
    assert.deepEqual(
      d.vms.map((v) => v.name),
      ["a vm with space", "b_vm"],
    );
    assert.deepEqual(d.vms[1]!.cpuPct, ramp);
    assert.equal(d.vms[0]!.cpuPct.length, 288);
  });
  test("directory order returns the same VMs", async () => {
    const d = await readPlanetLabDay(join(root, "pl", "20110303"), { order: "directory" });
    assert.deepEqual(d.vms.map((v) => v.name).sort(), ["a vm with space", "b_vm"]);
  });

  const bad: { name: string; text: string; line: number; what: RegExp }[] = [
    { name: "empty file", text: "", line: 1, what: /empty/ },
    { name: "non-number line", text: day([...ramp.slice(0, 10), "abc", ...ramp.slice(11)]), line: 11, what: /expected one number.*abc/ },
    { name: "out of range", text: day([...ramp.slice(0, 4), 150, ...ramp.slice(5)]), line: 5, what: /out of range/ },
    { name: "too few lines", text: day(ramp.slice(0, 100)), line: 101, what: /expected 288 samples, got 100/ },
    { name: "too many lines", text: day([...ramp, 1]), line: 289, what: /got 289/ },
    { name: "two numbers on a line", text: day(["1 2", ...ramp.slice(1)]), line: 1, what: /one number/ },
  ];
  for (const c of bad) {
    test(`malformed: ${c.name}`, async () => {
      const dir = join(root, `bad-${c.name.replace(/ /g, "-")}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "vm"), c.text);
      await expectTraceError(readPlanetLabDay(dir), join(dir, "vm"), c.line, c.what);
    });
  }
  test("follows symbolic links to VM files and day folders; a dangling link is an error naming it", async () => {
    const linked = join(root, "linked");
    await mkdir(join(linked, "days"), { recursive: true });
    await mkdir(join(linked, "real-day"), { recursive: true });
    await writeFile(join(linked, "real-day", "c_vm"), day(ramp));
    await symlink(join(linked, "real-day"), join(linked, "days", "20110309"));
    await symlink(join(root, "pl", "20110303", "b_vm"), join(linked, "real-day", "d_link"));
    assert.deepEqual(await listPlanetLabDays(join(linked, "days")), ["20110309"]);
    const d = await readPlanetLabDay(join(linked, "days", "20110309"));
    assert.deepEqual(
      d.vms.map((v) => v.name),
      ["c_vm", "d_link"],
    );
    assert.deepEqual(d.vms[1]!.cpuPct, ramp);
    await symlink(join(linked, "nowhere"), join(linked, "real-day", "e_dangling"));
    await expectTraceError(readPlanetLabDay(join(linked, "real-day")), join(linked, "real-day", "e_dangling"), undefined, /symbolic link.*ENOENT/);
  });
  test("missing day folder", async () => {
    const dir = join(root, "pl", "19990101");
    await expectTraceError(readPlanetLabDay(dir), dir, undefined, /ENOENT/);
  });
  test("missing root", async () => {
    const dir = join(root, "nope");
    await expectTraceError(listPlanetLabDays(dir), dir, undefined, /ENOENT/);
  });
});

describe("Alibaba machine_usage reader", () => {
  const rows = ["m_1,0,10,50,,,1,2,5", "m_1,10,20,52,,,3,4,-1", "m_1,320,40,60,,,5,6,101", "m_1,930,70,70,,,7,8,9", "m_2,100,1,2,,,3,4,5"];
  test("groups rows per machine, replaces abnormal disk values by the previous valid one", async () => {
    const f = join(root, "mu.csv");
    await writeFile(f, rows.join("\n") + "\n");
    const ms = await readAlibabaMachineUsage(f);
    assert.deepEqual(
      ms.map((m) => m.machineId),
      ["m_1", "m_2"],
    );
    const m1 = ms[0]!;
    assert.deepEqual(m1.t, [0, 10, 320, 930]);
    assert.deepEqual(m1.cpuPct, [10, 20, 40, 70]);
    assert.deepEqual(m1.memPct, [50, 52, 60, 70]);
    assert.deepEqual(m1.netIn, [1, 3, 5, 7]);
    assert.deepEqual(m1.netOut, [2, 4, 6, 8]);
    assert.deepEqual(m1.diskPct, [5, 5, 5, 9]);
  });
  test("resamples to buckets: mean per bucket, forward-fills empty buckets", async () => {
    const f = join(root, "mu2.csv");
    await writeFile(f, rows.join("\n"));
    const [m1, m2] = await readAlibabaMachineUsage(f, { resampleSeconds: 300 });
    // buckets: [0,300): rows 0,10 → cpu 15; [300,600): row 320 → 40; [600,900): empty → 40; [900,1200): 70
    assert.deepEqual(m1!.t, [0, 300, 600, 900]);
    assert.deepEqual(m1!.cpuPct, [15, 40, 40, 70]);
    assert.deepEqual(m1!.memPct, [51, 60, 60, 70]);
    assert.deepEqual(m2!.t, [0]);
    assert.deepEqual(m2!.cpuPct, [1]);
  });

  const bad: { name: string; text: string; line: number; what: RegExp }[] = [
    { name: "empty file", text: "", line: 1, what: /empty/ },
    { name: "wrong column count", text: "m_1,0,10,50,,,1,2,5\nm_1,10,20,52,,,3,4\n", line: 2, what: /expected 9 columns, got 8/ },
    { name: "non-number cpu", text: "m_1,0,x,50,,,1,2,5\n", line: 1, what: /cpu_util_percent is not a number/ },
    { name: "empty memory", text: "m_1,0,1,50,,,1,2,5\nm_1,10,1,,,,1,2,5\nm_1,20,1,50,,,1,2,5\n", line: 2, what: /mem_util_percent/ },
    { name: "time going backwards", text: "m_1,10,1,50,,,1,2,5\nm_1,10,1,50,,,1,2,5\n", line: 2, what: /does not increase/ },
  ];
  for (const c of bad) {
    test(`malformed: ${c.name}`, async () => {
      const f = join(root, `bad-${c.name.replace(/ /g, "-")}.csv`);
      await writeFile(f, c.text);
      await expectTraceError(readAlibabaMachineUsage(f), f, c.line, c.what);
    });
  }
  test("missing file", async () => {
    const f = join(root, "missing.csv");
    await expectTraceError(readAlibabaMachineUsage(f), f, undefined, /ENOENT/);
  });
});
