import { InvalidArgumentError } from "commander";
import { NodeId } from "../../../shared/src/contracts/common.js";

/** Commander parser for a node id argument: the error names the value and the rule. */
export function nodeArg(v: string): string {
  const r = NodeId.safeParse(v);
  if (!r.success) throw new InvalidArgumentError(`node id "${v}" ${r.error.issues[0]?.message ?? "is invalid"}`);
  return v;
}
