//! SSM hybrid activation calls. The activation code is wrapped in [`Secret`] the moment it
//! leaves the SDK's response.

use std::collections::BTreeMap;

use aws_sdk_ssm::error::SdkError;
use aws_sdk_ssm::operation::create_activation::CreateActivationError;
use aws_sdk_ssm::types::{DescribeActivationsFilter, DescribeActivationsFilterKeys, Tag};
use aws_sdk_ssm::Client;
use aws_smithy_types::DateTime;

use crate::aws::errors::{classify, is_not_found};
use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct NewActivation<'a> {
    pub role: &'a str,
    pub registration_limit: i32,
    pub expires_at: DateTime,
    pub instance_name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct CreatedActivation {
    pub id: String,
    pub code: Secret,
}

/// Creates the activation; the raw SDK error is returned so the caller can decide to wait
/// out IAM propagation.
pub async fn create_activation(
    ssm: &Client,
    req: &NewActivation<'_>,
) -> std::result::Result<CreatedActivation, SdkError<CreateActivationError>> {
    let mut call = ssm
        .create_activation()
        .iam_role(req.role)
        .registration_limit(req.registration_limit)
        .expiration_date(req.expires_at)
        .set_default_instance_name(req.instance_name.map(str::to_string))
        .set_description(req.description.map(str::to_string));
    for (k, v) in req.tags {
        // Tag::build only fails on a missing key or value, which cannot happen here.
        if let Ok(tag) = Tag::builder().key(k).value(v).build() {
            call = call.tags(tag);
        }
    }
    let out = call.send().await?;
    Ok(CreatedActivation {
        id: out.activation_id().unwrap_or_default().to_string(),
        code: Secret::new(out.activation_code().unwrap_or_default()),
    })
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ActivationRecord {
    pub id: String,
    pub role: String,
    pub description: Option<String>,
    pub default_instance_name: Option<String>,
    pub registration_limit: i32,
    pub registrations: i32,
    pub expired: bool,
    pub expires_at: Option<String>,
    pub created_at: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl ActivationRecord {
    pub fn exhausted(&self) -> bool {
        self.registrations >= self.registration_limit
    }
}

pub fn fmt_time(t: &DateTime) -> String {
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}

/// All activations, or those with the given ids.
pub async fn describe_activations(ssm: &Client, ids: &[String]) -> Result<Vec<ActivationRecord>> {
    let mut req = ssm.describe_activations();
    if !ids.is_empty() {
        let filter = DescribeActivationsFilter::builder()
            .filter_key(DescribeActivationsFilterKeys::ActivationIds)
            .set_filter_values(Some(ids.to_vec()))
            .build();
        req = req.filters(filter);
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("ssm:DescribeActivations", "activations", e))?;
        for a in page.activation_list() {
            out.push(ActivationRecord {
                id: a.activation_id().unwrap_or_default().to_string(),
                role: a.iam_role().unwrap_or_default().to_string(),
                description: a.description().map(str::to_string),
                default_instance_name: a.default_instance_name().map(str::to_string),
                registration_limit: a.registration_limit().unwrap_or(1),
                registrations: a.registrations_count().unwrap_or(0),
                expired: a.expired(),
                expires_at: a.expiration_date().map(fmt_time),
                created_at: a.created_date().map(fmt_time),
                tags: a
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// Deletes an activation. `Ok(false)` when it did not exist (already converged).
pub async fn delete_activation(ssm: &Client, id: &str) -> Result<bool> {
    match ssm.delete_activation().activation_id(id).send().await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(classify(
            "ssm:DeleteActivation",
            &format!("activation {id}"),
            e,
        )),
    }
}

/// Activation ids are UUIDs; checked before any call so a typo is a usage error.
pub fn validate_activation_id(id: &str) -> Result<()> {
    let groups: Vec<&str> = id.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "`{id}` is not an activation id: expected a UUID such as 1b2c3d4e-0000-1111-2222-333344445555"
        )))
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ManagedInstance {
    pub id: String,
    pub ping_status: String,
    pub iam_role: Option<String>,
    pub activation_id: Option<String>,
    pub name: Option<String>,
    pub last_ping: Option<String>,
}

/// The managed instance as SSM sees it; `Ok(None)` when SSM does not know it (deregistered).
pub async fn managed_instance(ssm: &Client, id: &str) -> Result<Option<ManagedInstance>> {
    let filter = aws_sdk_ssm::types::InstanceInformationStringFilter::builder()
        .key("InstanceIds")
        .values(id)
        .build()
        .map_err(|e| Error::Other(format!("cannot build filter: {e}")))?;
    let out = match ssm
        .describe_instance_information()
        .filters(filter)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(classify(
                "ssm:DescribeInstanceInformation",
                &format!("managed instance {id}"),
                e,
            ))
        }
    };
    Ok(out
        .instance_information_list()
        .iter()
        .find(|i| i.instance_id() == Some(id))
        .map(|i| ManagedInstance {
            id: id.to_string(),
            ping_status: i
                .ping_status()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            iam_role: i.iam_role().map(str::to_string),
            activation_id: i.activation_id().map(str::to_string),
            name: i.name().map(str::to_string),
            last_ping: i.last_ping_date_time().map(fmt_time),
        }))
}

/// Deregisters a managed instance. `Ok(false)` when SSM did not know it.
pub async fn deregister_managed_instance(ssm: &Client, id: &str) -> Result<bool> {
    match ssm
        .deregister_managed_instance()
        .instance_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(classify(
            "ssm:DeregisterManagedInstance",
            &format!("managed instance {id}"),
            e,
        )),
    }
}
