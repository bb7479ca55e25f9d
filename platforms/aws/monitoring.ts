// The API audit log leaves the node: the CloudWatch agent ships it to a KMS-encrypted log group, where metric
// filters over the JSON events count security-relevant requests and alarms notify an encrypted SNS topic.
// A copy off the node matters because whoever takes over a control-plane node can also edit its local log.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { fail, key } from "../../components/common";
import { BACKUP_ALARM_INTERVALS, BACKUP_METRIC, BACKUP_UNIT, backupAlarmTerms } from "./backup";
import { CERT_EXPIRY_ALARM_DAYS, CERT_EXPIRY_ALARM_PERIOD_SECONDS, CERT_EXPIRY_METRIC } from "./cert-expiry";

export const CLOUDWATCH_AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/etc/hardened-cluster.json";
export const CLOUDWATCH_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";
/** CloudWatch refuses longer filter patterns. */
export const MAX_FILTER_PATTERN = 1024;

export function auditLogGroupName(clusterName: string): string {
    return `/${clusterName}/kube-apiserver-audit`;
}

/** The agent's JSON config as an object. It runs as root because the apiserver writes its audit log 0600. */
export function cloudWatchAgentConfig(region: string, auditLogFile: string, logGroupName: string): Record<string, unknown> {
    return {
        agent: { region, run_as_user: "root", logfile: "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log" },
        logs: {
            force_flush_interval: 5,
            logs_collected: {
                files: {
                    collect_list: [{
                        file_path: auditLogFile,
                        log_group_name: logGroupName,
                        // One stream per node, so an event can be traced to the apiserver that logged it.
                        log_stream_name: "{instance_id}",
                        timezone: "UTC",
                    }],
                },
            },
        },
    };
}

/**
 * Users expected to read Secrets: the controllers and the scheduler's peers in kube-system, and kubelets,
 * which the Node authorizer limits to the Secrets of their own pods.
 */
export const DEFAULT_SECRET_READERS = ["system:kube-controller-manager", "system:serviceaccount:kube-system:*", "system:node:*"];

export interface SecurityEvent {
    id: string;
    metricName: string;
    description: string;
    pattern: string;
    /** Alarm when the 5-minute sum reaches this. */
    threshold: number;
}

/** One audit record per request: ResponseStarted for long-running requests (exec), ResponseComplete for the rest. */
export function securityEvents(secretReaders: readonly string[] = DEFAULT_SECRET_READERS, configKey = "aws"): SecurityEvent[] {
    const readers = secretReaders.map((u) => `($.user.username != "${u}")`).join(" && ");
    const events: SecurityEvent[] = [
        {
            id: "unauthenticated-or-forbidden",
            metricName: "UnauthenticatedOrForbiddenRequests",
            description: "anonymous, unauthenticated (401) or forbidden (403) API requests spike: probing or a stolen, under-privileged credential",
            pattern: '{ ($.stage = "ResponseComplete") && (($.user.username = "system:anonymous") || ($.responseStatus.code = 401) || ($.responseStatus.code = 403)) }',
            threshold: 20,
        },
        {
            id: "unexpected-secret-reads",
            metricName: "UnexpectedSecretReads",
            description: "Secrets read by a user outside the expected readers",
            pattern: `{ ($.stage = "ResponseComplete") && ($.objectRef.resource = "secrets") && (($.verb = "get") || ($.verb = "list") || ($.verb = "watch"))${readers ? ` && ${readers}` : ""} }`,
            threshold: 1,
        },
        {
            id: "clusterrolebinding-changes",
            metricName: "ClusterRoleBindingChanges",
            description: "ClusterRoleBindings created, changed or deleted: cluster-wide privilege changes",
            pattern: '{ ($.stage = "ResponseComplete") && ($.objectRef.resource = "clusterrolebindings") && (($.verb = "create") || ($.verb = "update") || ($.verb = "patch") || ($.verb = "delete") || ($.verb = "deletecollection")) }',
            threshold: 1,
        },
        {
            id: "pod-exec",
            metricName: "PodExecOrAttach",
            description: "exec or attach into a pod: an interactive shell inside a workload",
            pattern: '{ ($.stage = "ResponseStarted") && ($.objectRef.resource = "pods") && (($.objectRef.subresource = "exec") || ($.objectRef.subresource = "attach")) }',
            threshold: 1,
        },
    ];
    for (const e of events) {
        if (e.pattern.length > MAX_FILTER_PATTERN) {
            fail(key(configKey, "monitoring", "secretReaders"), secretReaders,
                `the ${e.id} filter would be ${e.pattern.length} characters, CloudWatch allows ${MAX_FILTER_PATTERN}; list fewer users or use wildcards`);
        }
    }
    return events;
}

/** Per cluster, so two clusters in one account never add to each other's counts. */
export function metricNamespace(clusterName: string): string {
    return `HardenedCluster/${clusterName}`;
}

export interface MonitoringArgs {
    clusterName: string;
    clusterKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    events: SecurityEvent[];
    /** hardened-cluster:backup.intervalMinutes as resolved for AWS. */
    backupIntervalMinutes: number;
    tags: Record<string, string>;
}

export class Monitoring extends pulumi.ComponentResource {
    readonly auditLogGroup: aws.cloudwatch.LogGroup;
    readonly alarmTopic: aws.sns.Topic;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:Monitoring", name, {}, opts);
        const parent = { parent: this };
        this.auditLogGroup = new aws.cloudwatch.LogGroup(`${name}-audit`, {
            name: auditLogGroupName(args.clusterName),
            kmsKeyId: args.clusterKeyArn,
            retentionInDays: args.logRetentionDays,
            tags: args.tags,
        }, parent);
        this.alarmTopic = new aws.sns.Topic(`${name}-alarms`, { kmsMasterKeyId: args.clusterKeyArn, tags: args.tags }, parent);

        for (const e of args.events) {
            const filter = new aws.cloudwatch.LogMetricFilter(`${name}-${e.id}`, {
                logGroupName: this.auditLogGroup.name,
                pattern: e.pattern,
                metricTransformation: {
                    namespace: metricNamespace(args.clusterName),
                    name: e.metricName,
                    value: "1",
                    defaultValue: "0",
                },
            }, parent);
            new aws.cloudwatch.MetricAlarm(`${name}-${e.id}`, {
                alarmDescription: `${args.clusterName}: ${e.description}`,
                namespace: metricNamespace(args.clusterName),
                metricName: e.metricName,
                statistic: "Sum",
                period: 300,
                evaluationPeriods: 1,
                threshold: e.threshold,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                treatMissingData: "notBreaching",
                alarmActions: [this.alarmTopic.arn],
                okActions: [this.alarmTopic.arn],
                tags: args.tags,
            }, { parent: this, dependsOn: [filter] });
        }
        // Both metrics come from the control-plane nodes' timers, and missing data breaches: silence means no
        // node could report, which is itself the thing to alarm on.
        const nodeAlarm = (id: string, description: string, metricName: string, statistic: "Minimum" | "Sum", terms: { period: number; evaluationPeriods: number; threshold: number }) =>
            new aws.cloudwatch.MetricAlarm(`${name}-${id}`, {
                alarmDescription: `${args.clusterName}: ${description}`,
                namespace: metricNamespace(args.clusterName),
                metricName,
                statistic,
                ...terms,
                comparisonOperator: "LessThanThreshold",
                treatMissingData: "breaching",
                alarmActions: [this.alarmTopic.arn],
                okActions: [this.alarmTopic.arn],
                tags: args.tags,
            }, parent);
        // cert-expiry.ts: no report for an hour means nobody knows how long the certificates have left.
        nodeAlarm("certificate-expiry", `a certificate expires within ${CERT_EXPIRY_ALARM_DAYS} days, or no control-plane node reported its certificates for an hour; run pulumi up (README: Certificate renewal)`,
            CERT_EXPIRY_METRIC, "Minimum", { period: CERT_EXPIRY_ALARM_PERIOD_SECONDS, evaluationPeriods: 1, threshold: CERT_EXPIRY_ALARM_DAYS });
        // backup.ts: only the leading member's node publishes, one count per bundle in the bucket.
        nodeAlarm("etcd-backup", `no etcd backup reached the bucket for ${BACKUP_ALARM_INTERVALS} intervals of ${args.backupIntervalMinutes} minutes; check the ${BACKUP_UNIT} unit on the control-plane nodes`,
            BACKUP_METRIC, "Sum", { ...backupAlarmTerms(args.backupIntervalMinutes), threshold: 1 });
        this.registerOutputs({ auditLogGroupName: this.auditLogGroup.name, alarmTopicArn: this.alarmTopic.arn });
    }
}
