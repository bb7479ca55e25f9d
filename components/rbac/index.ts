export * from "./names";
export * from "./personas";
export * from "./invariants";
export * from "./subjects";
export * from "./validate";
export * from "./render";
export * from "./plan";
export * from "./component";
