export * from "./planetlab.js";
export * from "./alibaba.js";
export * from "./trace-format-error.js";
