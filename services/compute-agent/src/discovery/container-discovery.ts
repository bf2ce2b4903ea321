/** A container as the agent knows it: Herd's own type, nothing of dockerode leaks past the adapter. */
export interface DiscoveredContainer {
  id: string;
  name: string;
  image: string;
  state: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  labels: Record<string, string>;
  /** Host pid of the container's init process; 0 when not running. */
  pid: number;
  /** Cgroup parent the engine put the container under (e.g. "/docker"), if known. */
  cgroupParent: string;
  memoryLimitBytes: number | null;
  /** The main process's exit code, once exited. */
  exitCode?: number;
  /** Its address on the cluster network, if it is on it. */
  address?: string;
}

/**
 * Lists the containers of this node's engine. Contract: `list()` returns every container the
 * engine knows (running or not) with a current state; it is cheap enough to call every
 * telemetry interval (implementations cache what does not change per container).
 */
export interface ContainerDiscovery {
  list(): Promise<DiscoveredContainer[]>;
}
