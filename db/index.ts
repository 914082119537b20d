export * from "./attachments";
export * from "./conditional";
export * from "./connection";
export * from "./migrationRecords";
export * from "./services";
export * from "./snapshots";
export * from "./volumes";
export * from "./volumeTypes";
