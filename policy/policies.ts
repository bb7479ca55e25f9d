// Every rule of the pack, in the order the README lists them (separate from index.ts so tests can load them
// without starting a policy pack server).
import type { Policies } from "@pulumi/policy";
import { awsCustomerKeys, awsImdsv2, awsKmsRotation, awsS3PublicAccess, awsWorldOpenPorts } from "./rules/aws";
import { exceptionsHonoured } from "./rules/common";
import { controlPlaneRules } from "./rules/control-plane";
import { encryptionAtRest } from "./rules/encryption";
import { networkPolicyMetadataEgress, noTokenSecret, rbacClusterAdmin, rbacEscalation } from "./rules/kubernetes";
import { namespaceDefaultDeny, namespacePodSecurity } from "./rules/namespaces";
import { pkiKeyStrength, pkiLifetime } from "./rules/pki";
import { podRestricted } from "./rules/pods";

export const policies: Policies = [
    namespacePodSecurity,
    namespaceDefaultDeny,
    networkPolicyMetadataEgress,
    rbacClusterAdmin,
    rbacEscalation,
    noTokenSecret,
    podRestricted,
    pkiLifetime,
    pkiKeyStrength,
    encryptionAtRest,
    ...controlPlaneRules,
    awsImdsv2,
    awsKmsRotation,
    awsWorldOpenPorts,
    awsCustomerKeys,
    awsS3PublicAccess,
    exceptionsHonoured,
];
