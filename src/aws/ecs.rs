//! ECS calls about this host's container instance and its cluster.

use aws_sdk_ecs::types::{ContainerInstanceField, ContainerInstanceStatus};
use aws_sdk_ecs::Client;

use crate::aws::errors::{classify, service_code};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContainerInstance {
    pub arn: String,
    pub ec2_instance_id: String,
    pub status: String,
    pub agent_connected: bool,
    pub running_tasks: i32,
    pub pending_tasks: i32,
    pub agent_version: Option<String>,
}

/// Whether the cluster exists (and is ACTIVE).
pub async fn cluster_exists(ecs: &Client, cluster: &str) -> Result<bool> {
    let out = ecs
        .describe_clusters()
        .clusters(cluster)
        .send()
        .await
        .map_err(|e| classify("ecs:DescribeClusters", &format!("cluster {cluster}"), e))?;
    Ok(out.clusters().iter().any(|c| c.status() == Some("ACTIVE")))
}

pub async fn create_cluster(ecs: &Client, cluster: &str) -> Result<()> {
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .map_err(|e| classify("ecs:CreateCluster", &format!("cluster {cluster}"), e))?;
    Ok(())
}

/// The container instances of `cluster` whose `ec2InstanceId` is the managed instance id,
/// through the cluster query language, then described. Includes INACTIVE ones only when
/// `with_inactive`.
pub async fn find_by_instance_id(
    ecs: &Client,
    cluster: &str,
    managed_instance_id: &str,
) -> Result<Vec<ContainerInstance>> {
    let object = format!("cluster {cluster}");
    let mut arns = Vec::new();
    let mut pages = ecs
        .list_container_instances()
        .cluster(cluster)
        .filter(format!("ec2InstanceId == {managed_instance_id}"))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => arns.extend(p.container_instance_arns().iter().cloned()),
            Err(e) if matches!(service_code(&e), Some(("ClusterNotFoundException", _))) => {
                return Err(Error::Verification(format!(
                    "cluster {cluster} does not exist in this region; create it (`--create-cluster`) or fix --cluster"
                )))
            }
            Err(e) => return Err(classify("ecs:ListContainerInstances", &object, e)),
        }
    }
    describe(ecs, cluster, &arns).await
}

pub async fn describe(
    ecs: &Client,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<ContainerInstance>> {
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let out = ecs
        .describe_container_instances()
        .cluster(cluster)
        .set_container_instances(Some(arns.to_vec()))
        .include(ContainerInstanceField::Tags)
        .send()
        .await
        .map_err(|e| {
            classify(
                "ecs:DescribeContainerInstances",
                &format!("cluster {cluster}"),
                e,
            )
        })?;
    Ok(out
        .container_instances()
        .iter()
        .map(|c| ContainerInstance {
            arn: c.container_instance_arn().unwrap_or_default().to_string(),
            ec2_instance_id: c.ec2_instance_id().unwrap_or_default().to_string(),
            status: c.status().unwrap_or_default().to_string(),
            agent_connected: c.agent_connected(),
            running_tasks: c.running_tasks_count(),
            pending_tasks: c.pending_tasks_count(),
            agent_version: c
                .version_info()
                .and_then(|v| v.agent_version())
                .map(str::to_string),
        })
        .collect())
}

pub async fn drain(ecs: &Client, cluster: &str, arn: &str) -> Result<()> {
    ecs.update_container_instances_state()
        .cluster(cluster)
        .container_instances(arn)
        .status(ContainerInstanceStatus::Draining)
        .send()
        .await
        .map_err(|e| {
            classify(
                "ecs:UpdateContainerInstancesState",
                &format!("container instance {arn}"),
                e,
            )
        })?;
    Ok(())
}

pub async fn deregister(ecs: &Client, cluster: &str, arn: &str) -> Result<()> {
    ecs.deregister_container_instance()
        .cluster(cluster)
        .container_instance(arn)
        .force(true)
        .send()
        .await
        .map_err(|e| {
            classify(
                "ecs:DeregisterContainerInstance",
                &format!("container instance {arn}"),
                e,
            )
        })?;
    Ok(())
}
