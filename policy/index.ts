// The hardened-cluster policy pack: run it with `pulumi preview --policy-pack <this directory>`.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("hardened-cluster", { enforcementLevel: "mandatory", policies });
