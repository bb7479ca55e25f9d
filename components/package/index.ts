// Entry point of the component package. The Node.js language host runs it as the provider plugin: it
// serves every ComponentResource class exported here, under the package name from package.json, and Pulumi's
// schema analyzer reads their Args interfaces from the TypeScript source.
export { ClusterBaseline, SecureNamespace } from "./components";
