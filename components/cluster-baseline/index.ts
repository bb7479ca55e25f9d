export * from "./registry";
export * from "./admission";
export * from "./builtin-namespaces";
export * from "./plan";
export * from "./posture";
export * from "./component";
export * from "./guards";
