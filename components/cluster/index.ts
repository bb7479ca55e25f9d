// The cluster plan: settings resolved once against a platform's facts, then one bundle per control-plane node.
export * from "./types";
export * from "./resolve";
export * from "./plan";
export * from "./posture";
