//! The configuration file schema (`config.toml` and its `config.d/*.toml` drop-ins). Every
//! key is optional: a file says only what it changes. Unknown keys are errors.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::types::{HumanDuration, OutputFormat, PolicyMode, RegistrationLimit};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// AWS region of the cluster and the activation.
    pub region: Option<String>,
    /// Named profile from the shared AWS config files.
    pub profile: Option<String>,
    /// Endpoint override for every AWS service (testing, VPC endpoints, proxies).
    pub endpoint_url: Option<String>,
    /// `text` or `json`.
    pub output: Option<OutputFormat>,
    /// The ECS cluster this host belongs to.
    pub cluster: Option<String>,
    #[serde(default)]
    pub role: RoleSection,
    #[serde(default)]
    pub activation: ActivationSection,
    #[serde(default)]
    pub aws: AwsSection,
    #[serde(default)]
    pub host: HostSection,
}

/// How this host registers: the activation source and what the ECS agent is told.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    /// An activation file written by `activation create --out`.
    pub activation_file: Option<std::path::PathBuf>,
    /// Name of the managed instance (default: the host name).
    pub instance_name: Option<String>,
    /// Custom attributes of the container instance (sent at first registration only).
    pub attributes: Option<BTreeMap<String, String>>,
    /// Tags of the container instance (sent at first registration only).
    pub container_instance_tags: Option<BTreeMap<String, String>>,
    pub enable_gpu: Option<bool>,
    /// ECS endpoint override for the agent (`ECS_BACKEND_HOST`).
    pub ecs_endpoint: Option<String>,
    /// How long verification waits for the agent to register and connect.
    pub wait: Option<HumanDuration>,
    /// When `cluster` changes, move the host (true) or refuse and report (false).
    pub move_cluster: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSection {
    /// Name of the ECS Anywhere role (default `ecsAnywhereRole`).
    pub name: Option<String>,
    /// `managed` or `minimal`.
    pub policy: Option<PolicyMode>,
    /// Also ensure `ecsTaskExecutionRole`.
    pub task_execution_role: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationSection {
    pub registration_limit: Option<RegistrationLimit>,
    pub expires_in: Option<HumanDuration>,
    pub instance_name: Option<String>,
    pub description: Option<String>,
    /// How long to retry the IAM propagation error of a new or changed role.
    pub propagation_timeout: Option<HumanDuration>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    /// Attempts per AWS call, including the first (SDK standard retry mode).
    pub max_attempts: Option<u32>,
    pub connect_timeout: Option<HumanDuration>,
    /// Deadline for one attempt of one call.
    pub attempt_timeout: Option<HumanDuration>,
    /// Deadline for one call, all attempts included.
    pub operation_timeout: Option<HumanDuration>,
}
