import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyedValue, uintAt } from "./text-scan.js";

describe("uintAt", () => {
  const cases: Array<[string, string, number, number]> = [
    ["leading blanks", "  \t42 rest", 0, 42],
    ["from an offset", "rbytes=1048576", 7, 1048576],
    ["beyond 2^53 keeps its magnitude", "9223372036854771712", 0, 9223372036854771712],
  ];
  for (const [name, text, pos, want] of cases) it(name, () => assert.equal(uintAt(text, pos), want));
  it("no digits is NaN", () => assert.ok(Number.isNaN(uintAt("max", 0))));
});

describe("keyedValue", () => {
  const stat = "cache 1\ntotal_cache 2\ninactive_file 3\ntotal_inactive_file 4\n";
  const cases: Array<[string, string, string, string | undefined, number | undefined]> = [
    ["first line", stat, "cache", undefined, 1],
    ["a key that is also a suffix of another key", stat, "inactive_file", undefined, 3],
    ["prefixed key", stat, "total_inactive_file", undefined, 4],
    ["absent", stat, "rss", undefined, undefined],
    ["meminfo style", "MemTotal:  100 kB\nMemAvailable:  50 kB\n", "MemAvailable", ":", 50],
  ];
  for (const [name, text, key, sep, want] of cases) it(name, () => assert.equal(keyedValue(text, key, sep), want));
});
