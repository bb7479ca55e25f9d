// Every node, control plane or worker, starts from a launch template built here, so the hardening cannot
// differ between them: IMDSv2 only, with a hop limit of 1 so a container behind a bridge or NAT cannot reach
// the instance's credentials; every EBS volume encrypted with the cluster key; no EC2 key pair (SSH, when
// enabled, uses keys from config, and day-to-day access goes through SSM).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { encodeUserData } from "./userdata";

/** The root device of Amazon Linux 2023 (and Debian) AMIs; an AMI with another root device name needs a different mapping. */
export const ROOT_DEVICE = "/dev/xvda";
/** Where the etcd volume is attached; AL2023's udev rules link the NVMe device to this name. */
export const ETCD_DEVICE = "/dev/sdf";

export interface DataVolume {
    deviceName: string;
    sizeGiB: number;
}

export interface LaunchTemplatePlan {
    instanceType: string;
    imageId: pulumi.Input<string>;
    instanceProfileArn: pulumi.Input<string>;
    securityGroupIds: pulumi.Input<string>[];
    /** The cloud-config text; encoded here. */
    userData: pulumi.Input<string>;
    rootVolumeGiB: number;
    dataVolumes: DataVolume[];
    kmsKeyArn: pulumi.Input<string>;
    tags: Record<string, string>;
}

function volume(deviceName: string, sizeGiB: number, kmsKeyArn: pulumi.Input<string>) {
    return {
        deviceName,
        ebs: { volumeSize: sizeGiB, volumeType: "gp3", encrypted: "true", kmsKeyId: kmsKeyArn, deleteOnTermination: "true" },
    };
}

/** `name` is how an error names the template. */
export function launchTemplateArgs(p: LaunchTemplatePlan, name = "launch template"): aws.ec2.LaunchTemplateArgs {
    return {
        instanceType: p.instanceType,
        imageId: p.imageId,
        iamInstanceProfile: { arn: p.instanceProfileArn },
        vpcSecurityGroupIds: p.securityGroupIds,
        userData: pulumi.output(p.userData).apply((text) => encodeUserData(text, name)),
        metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: 1,
            // Tags can carry operator notes; nothing on the node needs them, so they stay out of IMDS.
            instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [volume(ROOT_DEVICE, p.rootVolumeGiB, p.kmsKeyArn), ...p.dataVolumes.map((v) => volume(v.deviceName, v.sizeGiB, p.kmsKeyArn))],
        ebsOptimized: "true",
        updateDefaultVersion: true,
        tagSpecifications: [
            { resourceType: "instance", tags: p.tags },
            { resourceType: "volume", tags: p.tags },
        ],
        tags: p.tags,
    };
}

export function hardenedLaunchTemplate(name: string, p: LaunchTemplatePlan, opts: pulumi.CustomResourceOptions): aws.ec2.LaunchTemplate {
    return new aws.ec2.LaunchTemplate(name, launchTemplateArgs(p, name), opts);
}
