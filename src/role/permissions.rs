//! The permissions policies of the roles: which AWS managed policies are attached, and the
//! least-privilege inline policy written in `--policy minimal` mode. Every action in the
//! inline policy is listed here with the reason the host needs it (also in the README).

use serde_json::{json, Value};

use crate::aws::sts::CallerIdentity;
use crate::config::types::PolicyMode;

pub const SSM_CORE: &str = "AmazonSSMManagedInstanceCore";
pub const EC2_CONTAINER_SERVICE: &str = "service-role/AmazonEC2ContainerServiceforEC2Role";
pub const TASK_EXECUTION: &str = "service-role/AmazonECSTaskExecutionRolePolicy";

/// Name of the inline policy this tool owns on the ECS Anywhere role.
pub const MINIMAL_POLICY_NAME: &str = "ecs-anywhere-minimal";

/// The AWS managed policies the ECS Anywhere role needs in each mode.
pub fn managed_policies(mode: PolicyMode, who: &CallerIdentity) -> Vec<String> {
    match mode {
        PolicyMode::Managed => vec![
            who.managed_policy_arn(SSM_CORE),
            who.managed_policy_arn(EC2_CONTAINER_SERVICE),
        ],
        PolicyMode::Minimal => vec![who.managed_policy_arn(SSM_CORE)],
    }
}

/// ECS actions the agent on an external instance calls, with why:
/// - `ecs:DiscoverPollEndpoint`: find the ACS/TCS endpoints; it has no resource type, so `*`.
pub const DISCOVER: &[&str] = &["ecs:DiscoverPollEndpoint"];

/// Actions on the cluster and on this cluster's container instances:
/// - `RegisterContainerInstance`: join the cluster (first start, and after agent.db is reset);
/// - `DeregisterContainerInstance`: leave it (`ecs-anywhere deregister`, cluster moves);
/// - `Poll`, `StartTelemetrySession`: the agent's control and telemetry channels;
/// - `Submit*StateChange(s)`: report task, container and attachment state;
/// - `UpdateContainerInstancesState`: drain before deregistering;
/// - `ListContainerInstances`, `DescribeContainerInstances`: let the host verify its own
///   membership remotely (`ecs-anywhere status` / `register` verification).
pub const CLUSTER_SCOPED: &[&str] = &[
    "ecs:RegisterContainerInstance",
    "ecs:DeregisterContainerInstance",
    "ecs:Poll",
    "ecs:StartTelemetrySession",
    "ecs:SubmitTaskStateChange",
    "ecs:SubmitContainerStateChange",
    "ecs:SubmitAttachmentStateChanges",
    "ecs:UpdateContainerInstancesState",
    "ecs:ListContainerInstances",
    "ecs:DescribeContainerInstances",
];

/// Pulling images from private ECR repositories for tasks without an execution role.
/// `GetAuthorizationToken` has no resource type; the layer reads are kept to `*` because the
/// repositories are the workload's choice, not the host's.
pub const ECR_PULL: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
];

/// The inline policy of `--policy minimal`, scoped to one cluster when one is named.
///
/// Left out of AmazonEC2ContainerServiceforEC2Role on purpose: `ecs:CreateCluster` (a host
/// must not create clusters; a missing cluster should fail loudly), `ec2:DescribeTags` (EC2
/// only), `logs:*` (container logs belong to the task execution role).
pub fn minimal_policy(who: &CallerIdentity, cluster: Option<&str>) -> Value {
    let c = cluster.unwrap_or("*");
    let cluster_arn = who.arn("ecs", "*", &format!("cluster/{c}"));
    let instances_arn = who.arn("ecs", "*", &format!("container-instance/{c}/*"));
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DiscoverPollEndpoint", "Effect": "Allow", "Action": DISCOVER, "Resource": "*"},
            {"Sid": "ContainerInstanceInCluster", "Effect": "Allow", "Action": CLUSTER_SCOPED,
             "Resource": [cluster_arn, instances_arn]},
            {"Sid": "PullPrivateImages", "Effect": "Allow", "Action": ECR_PULL, "Resource": "*"}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_policy_is_scoped_to_the_cluster() {
        let who = CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws-us-gov:iam::123456789012:user/a".into(),
            partition: "aws-us-gov".into(),
            region: "us-gov-west-1".into(),
        };
        let doc = minimal_policy(&who, Some("prod"));
        let res = &doc["Statement"][1]["Resource"];
        assert_eq!(res[0], "arn:aws-us-gov:ecs:*:123456789012:cluster/prod");
        assert_eq!(
            res[1],
            "arn:aws-us-gov:ecs:*:123456789012:container-instance/prod/*"
        );
        let text = doc.to_string();
        assert!(!text.contains("CreateCluster"));
        assert!(!text.contains("\"ecs:*\""));
        assert_eq!(
            managed_policies(PolicyMode::Managed, &who)[1],
            "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
        );
    }
}
