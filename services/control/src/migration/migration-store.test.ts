import { migrationStoreContract } from "./migration-store.contract.js";
import { InMemoryMigrationStore } from "./migration-store.js";

migrationStoreContract("in-memory", async () => new InMemoryMigrationStore());
