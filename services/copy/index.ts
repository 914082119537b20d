export { CopyEngine, type CopyEngineDeps } from "./engine";
export { combineDigests, DEFAULT_SEGMENT_BYTES } from "./plan";
export * from "./types";
