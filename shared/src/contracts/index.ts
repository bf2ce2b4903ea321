export * from "./common.js";
export * from "./telemetry.js";
export * from "./events.js";
export * from "./commands.js";
