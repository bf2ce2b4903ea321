import { ValidationError } from "../../../../shared/src/errors.js";
import { consolidationPolicy } from "./consolidation-policy.js";
import { forecastPolicy } from "./forecast-policy.js";
import { nonePolicy } from "./none-policy.js";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";
import { sandpiperPolicy } from "./sandpiper-policy.js";
import { thresholdPolicy } from "./threshold-policy.js";

/** Every policy Herd knows, by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plugins differ in their argument types; each validates its own.
export const POLICY_PLUGINS: ReadonlyMap<string, PolicyPlugin<any>> = new Map<string, PolicyPlugin<any>>(
  [nonePolicy, thresholdPolicy, sandpiperPolicy, forecastPolicy, consolidationPolicy].map((p) => [p.name, p]),
);

/**
 * Validates a policy's arguments (defaults filled in) and builds it. A bad name or argument fails
 * here, at start-up, with a ValidationError naming the argument and its valid range.
 */
export function createPolicy(name: string, rawArgs: unknown = {}): PlacementPolicy {
  const plugin = POLICY_PLUGINS.get(name);
  if (!plugin) {
    throw new ValidationError("policy", `unknown placement policy "${name}"; valid: ${[...POLICY_PLUGINS.keys()].join(", ")}`);
  }
  const parsed = plugin.argsSchema.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length ? issue.path.join(".") : "(args)";
    const msg = issue.code === "unrecognized_keys" ? `unknown argument(s) ${issue.keys.join(", ")}` : issue.message;
    throw new ValidationError(`policy.${name}.${path}`, msg);
  }
  return plugin.create(parsed.data);
}

/** The arguments a policy would run with (defaults filled in), for `herd plan` and reports. */
export function resolvePolicyArgs(name: string, rawArgs: unknown = {}): unknown {
  createPolicy(name, rawArgs);
  return POLICY_PLUGINS.get(name)!.argsSchema.parse(rawArgs ?? {});
}
