import { controlSettings, loadSettingsOrExit } from "../../../shared/src/config.js";
import { errorMessage } from "../../../shared/src/errors.js";
import { createLogger } from "../../../shared/src/logger.js";
import { ControlService } from "./control-service.js";

const settings = loadSettingsOrExit(controlSettings);
const log = createLogger({ level: settings.HERD_LOG_LEVEL, format: settings.HERD_LOG_FORMAT }).child({ component: "control" });
const service = new ControlService(settings, log);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log.info("Stopping", { signal });
    void service.stop().finally(() => process.exit(0));
  });
}
service.start().catch((err: unknown) => {
  log.error("Control service failed to start", { error: errorMessage(err) });
  process.exit(1);
});
