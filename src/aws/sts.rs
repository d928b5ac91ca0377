//! Who we are: account, partition and principal, from `sts:GetCallerIdentity`.

use crate::aws::errors::classify;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub partition: String,
    pub region: String,
}

impl CallerIdentity {
    /// `arn:<partition>:<service>:<region>:<account>:<resource>` in this account and region.
    pub fn arn(&self, service: &str, region: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{region}:{}:{resource}",
            self.partition, self.account
        )
    }

    /// The ARN of an AWS managed IAM policy in this partition, e.g. `service-role/X`.
    pub fn managed_policy_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.partition)
    }
}

pub async fn caller_identity(client: &aws_sdk_sts::Client, region: &str) -> Result<CallerIdentity> {
    let out = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| classify("sts:GetCallerIdentity", "the calling identity", e))?;
    let arn = out.arn().unwrap_or_default().to_string();
    let account = out.account().unwrap_or_default().to_string();
    let partition = arn.split(':').nth(1).unwrap_or_default().to_string();
    if account.is_empty() || partition.is_empty() {
        return Err(Error::Other(format!(
            "sts:GetCallerIdentity returned no usable account or ARN (arn `{arn}`)"
        )));
    }
    Ok(CallerIdentity {
        account,
        arn,
        partition,
        region: region.to_string(),
    })
}
