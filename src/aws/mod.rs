//! The AWS layer: the single place that builds the SDK configuration and clients, one file
//! per service with thin calls that classify their errors, and the account identity.

pub mod ecs;
pub mod errors;
pub mod iam;
pub mod ssm;
pub mod sts;

use std::time::Duration;

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::error::{Error, Result};

/// Everything that shapes how we talk to AWS, already resolved from flags, environment and
/// files. `None` leaves the SDK's standard chain in charge (`AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL`, shared config files, container and instance credentials).
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            region: None,
            profile: None,
            endpoint_url: None,
            max_attempts: 5,
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(120),
        }
    }
}

/// Builds the one `SdkConfig` every client comes from. The behaviour version is pinned so an
/// SDK upgrade cannot silently change retries, timeouts or proxy handling in the field; this
/// version reads `HTTPS_PROXY`/`NO_PROXY` from the environment.
pub async fn sdk_config(settings: &AwsSettings) -> Result<SdkConfig> {
    finish(loader(settings).load().await)
}

/// The same configuration with a made-up key, for probes that only need an answer
/// (reachability, the server's clock) whoever we are: AWS refuses the key, and the refusal
/// is the answer. (Unsigned requests are not sent at all by the SDK for SigV4 services.)
pub async fn sdk_config_probe(settings: &AwsSettings) -> Result<SdkConfig> {
    let probe = aws_credential_types::Credentials::from_keys("ECSANYWHEREPROBE", "probe", None);
    finish(loader(settings).credentials_provider(probe).load().await)
}

fn finish(config: SdkConfig) -> Result<SdkConfig> {
    if config.region().is_none() {
        return Err(Error::Usage(
            "no AWS region: pass --region, set ECS_ANYWHERE_REGION or AWS_REGION, or set `region` in the config file".into(),
        ));
    }
    Ok(config)
}

fn loader(settings: &AwsSettings) -> aws_config::ConfigLoader {
    let retry = RetryConfig::standard()
        .with_max_attempts(settings.max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_attempt_timeout(settings.attempt_timeout)
        .operation_timeout(settings.operation_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::v2026_01_12())
        .retry_config(retry)
        .timeout_config(timeouts);
    // The region comes from us, the environment or the profile, never from EC2 instance
    // metadata: on-premises hosts have none, and probing for it costs seconds of timeouts.
    let mut profile_region = ProfileFileRegionProvider::builder();
    if let Some(profile) = &settings.profile {
        profile_region = profile_region.profile_name(profile);
    }
    let region = match &settings.region {
        Some(r) => RegionProviderChain::first_try(Region::new(r.clone())),
        None => RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new()),
    }
    .or_else(profile_region.build());
    loader = loader.region(region);
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader
}

/// The service clients, built once per run from the same configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub iam: aws_sdk_iam::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Clients {
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            iam: aws_sdk_iam::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }
}

/// The partition a region belongs to, for ARNs built before we have asked STS.
pub fn partition_for_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition_for_region("us-east-1"), "aws");
        assert_eq!(partition_for_region("eu-central-2"), "aws");
        assert_eq!(partition_for_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_for_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_for_region("us-isob-east-1"), "aws-iso-b");
    }
}
