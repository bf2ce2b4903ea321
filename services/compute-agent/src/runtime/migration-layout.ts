import { ValidationError } from "../../../../shared/src/errors.js";

/**
 * Where a migration's pieces land in the destination's staging area (the rsync module root).
 * Source and destination both derive paths from here so they always agree. Image archives are
 * shared across migrations: a second migration with the same image finds it already there.
 */
export const migrationLayout = {
  root: (migrationId: string) => checkId(migrationId),
  upper: (migrationId: string) => `${checkId(migrationId)}/upper`,
  volume: (migrationId: string, volume: string) => `${checkId(migrationId)}/volumes/${checkName(volume)}`,
  checkpoint: (migrationId: string) => `${checkId(migrationId)}/checkpoint`,
  image: (imageId: string) => `images/${imageKey(imageId)}`,
};

export const IMAGE_ARCHIVE_NAME = "image.tar";

export function imageKey(imageId: string): string {
  const hex = imageId.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ValidationError("imageId", `expected sha256:<64 hex>, got "${imageId}"`);
  return hex;
}

function checkId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id) || id === "images") {
    throw new ValidationError("migrationId", `must be 1-128 of [A-Za-z0-9_.-], got "${id}"`);
  }
  return id;
}

function checkName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new ValidationError("volume", `not a plain volume name: "${name}"`);
  return name;
}
