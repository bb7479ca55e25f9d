export * from "./labels";
export * from "./pod-security";
export * from "./network";
export * from "./quota";
export * from "./plan";
export * from "./posture";
export * from "./component";
