// API auditing: policy presets, log-backend and webhook settings, the apiserver flags and the posture.
export * from "./options";
export * from "./policy";
export * from "./webhook";
export * from "./flags";
