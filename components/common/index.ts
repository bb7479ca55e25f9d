export * from "./errors";
export * from "./net";
export * from "./yaml";
export * from "./layout";
export * from "./kubernetes";
export * from "./posture";
