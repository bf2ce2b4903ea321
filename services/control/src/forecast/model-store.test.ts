import { test } from "node:test";
import assert from "node:assert/strict";
import { InMemoryModelStore } from "./model-store.js";
import { modelStoreContract } from "./model-store.contract.js";
import { forecasterFromJSON } from "./model-codec.js";
import { ValidationError } from "../../../../shared/src/errors.js";

modelStoreContract("in-memory", async () => new InMemoryModelStore());

test("forecasterFromJSON refuses what is not a saved forecaster", () => {
  assert.throws(() => forecasterFromJSON({ kind: "other" }), ValidationError);
  assert.throws(() => forecasterFromJSON({ kind: "herd-forecaster", version: 1, name: "prophet" }), /unknown forecaster/);
  assert.throws(() => forecasterFromJSON(null), ValidationError);
});
