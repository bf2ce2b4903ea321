// The broker's users and permissions moved to shared/ (control grants a joining node the same
// least-privilege user as `herd up` does); re-exported here for the local cluster's code.
export * from "../../../../shared/src/broker-permissions.js";
