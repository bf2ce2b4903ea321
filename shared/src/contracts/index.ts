export * from "./common.js";
export * from "./telemetry.js";
export * from "./events.js";
export * from "./commands.js";
export * from "./container-spec.js";
export * from "./migration-protocol.js";
export * from "./migration-api.js";
export * from "./cluster-network.js";
