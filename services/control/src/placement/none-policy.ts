import { z } from "zod";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";

/** Never moves anything: the baseline every other policy is compared with. */
export const nonePolicy: PolicyPlugin<Record<string, never>> = {
  name: "none",
  description: "never migrates (baseline)",
  argsSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  create(): PlacementPolicy {
    return { name: "none", propose: () => [] };
  },
};
