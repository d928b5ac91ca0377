//! IAM calls for roles: thin wrappers that decode policy documents and classify errors.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;

use crate::aws::errors::{classify, is_not_found};
use crate::error::{Error, Result};

/// What IAM says about a role, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRecord {
    pub arn: String,
    pub trust_policy: serde_json::Value,
    pub tags: Vec<(String, String)>,
}

fn object(role: &str) -> String {
    format!("role {role}")
}

/// IAM returns policy documents URL-encoded (RFC 3986).
pub fn decode_policy(raw: &str) -> Result<serde_json::Value> {
    let decoded = urlencoding::decode(raw)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| raw.to_string());
    serde_json::from_str(&decoded).map_err(|e| {
        Error::Other(format!(
            "IAM returned a policy document that is not JSON: {e}"
        ))
    })
}

pub async fn get_role(iam: &Client, role: &str) -> Result<Option<RoleRecord>> {
    let out = match iam.get_role().role_name(role).send().await {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(classify("iam:GetRole", &object(role), e)),
    };
    let Some(r) = out.role() else {
        return Ok(None);
    };
    let trust = match r.assume_role_policy_document() {
        Some(doc) => decode_policy(doc)?,
        None => serde_json::json!({}),
    };
    Ok(Some(RoleRecord {
        arn: r.arn().to_string(),
        trust_policy: trust,
        tags: r
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    }))
}

pub async fn attached_policies(iam: &Client, role: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("iam:ListAttachedRolePolicies", &object(role), e))?;
        arns.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string)),
        );
    }
    Ok(arns)
}

pub async fn inline_policy_names(iam: &Client, role: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("iam:ListRolePolicies", &object(role), e))?;
        names.extend(page.policy_names().iter().cloned());
    }
    Ok(names)
}

pub async fn inline_policy(iam: &Client, role: &str, name: &str) -> Result<serde_json::Value> {
    let out = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .map_err(|e| classify("iam:GetRolePolicy", &object(role), e))?;
    decode_policy(out.policy_document())
}

pub async fn create_role(
    iam: &Client,
    role: &str,
    trust: &serde_json::Value,
    description: &str,
    tags: &[(String, String)],
) -> Result<()> {
    let mut req = iam
        .create_role()
        .role_name(role)
        .assume_role_policy_document(trust.to_string())
        .description(description);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(k).value(v).build().map_err(build_err)?);
    }
    req.send()
        .await
        .map_err(|e| classify("iam:CreateRole", &object(role), e))?;
    Ok(())
}

pub async fn update_trust(iam: &Client, role: &str, trust: &serde_json::Value) -> Result<()> {
    iam.update_assume_role_policy()
        .role_name(role)
        .policy_document(trust.to_string())
        .send()
        .await
        .map_err(|e| classify("iam:UpdateAssumeRolePolicy", &object(role), e))?;
    Ok(())
}

pub async fn attach_policy(iam: &Client, role: &str, arn: &str) -> Result<()> {
    iam.attach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| classify("iam:AttachRolePolicy", &object(role), e))?;
    Ok(())
}

pub async fn put_inline_policy(
    iam: &Client,
    role: &str,
    name: &str,
    doc: &serde_json::Value,
) -> Result<()> {
    iam.put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(doc.to_string())
        .send()
        .await
        .map_err(|e| classify("iam:PutRolePolicy", &object(role), e))?;
    Ok(())
}

fn build_err(e: impl std::fmt::Display) -> Error {
    Error::Other(format!("cannot build IAM request: {e}"))
}

pub async fn delete_inline_policy(iam: &Client, role: &str, name: &str) -> Result<()> {
    iam.delete_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .map_err(|e| classify("iam:DeleteRolePolicy", &object(role), e))?;
    Ok(())
}
