//! The trust policy of a service role: how it is built, how drift is found, and how it is
//! repaired without dropping statements this tool did not write.

use serde_json::{json, Value};

use crate::aws::sts::CallerIdentity;

/// The service that assumes a role, and the service whose ARNs the confused-deputy condition
/// names (`ssm.amazonaws.com` / `ssm` for the ECS Anywhere role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedService {
    pub principal: &'static str,
    pub arn_service: &'static str,
}

pub const SSM: TrustedService = TrustedService {
    principal: "ssm.amazonaws.com",
    arn_service: "ssm",
};

pub const ECS_TASKS: TrustedService = TrustedService {
    principal: "ecs-tasks.amazonaws.com",
    arn_service: "ecs",
};

/// `arn:<partition>:<service>:<region>:<account>:*`, the `aws:SourceArn` this region needs.
fn source_arn(service: TrustedService, who: &CallerIdentity) -> String {
    who.arn(service.arn_service, &who.region, "*")
}

/// The statement we want: the service may assume the role, only on behalf of this account
/// (`aws:SourceAccount`) and only from this account's resources of that service in the
/// regions listed (`aws:SourceArn`).
fn statement(service: TrustedService, who: &CallerIdentity, source_arns: Vec<String>) -> Value {
    let arns = if source_arns.len() == 1 {
        Value::String(source_arns[0].clone())
    } else {
        json!(source_arns)
    };
    json!({
        "Effect": "Allow",
        "Principal": { "Service": service.principal },
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": { "aws:SourceAccount": who.account },
            "ArnLike": { "aws:SourceArn": arns }
        }
    })
}

/// A fresh trust policy for a new role.
pub fn document(service: TrustedService, who: &CallerIdentity) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [statement(service, who, vec![source_arn(service, who)])]
    })
}

fn as_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn names_service(stmt: &Value, service: TrustedService) -> bool {
    stmt.get("Effect").and_then(Value::as_str) == Some("Allow")
        && as_list(stmt.pointer("/Principal/Service")).contains(&service.principal.to_string())
}

fn allows_assume(stmt: &Value) -> bool {
    as_list(stmt.get("Action"))
        .iter()
        .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
}

/// Source ARNs already granted that are well-formed for this account; kept on repair so a
/// role shared by several regions keeps working in all of them.
fn kept_source_arns(stmt: &Value, service: TrustedService, who: &CallerIdentity) -> Vec<String> {
    let prefix = format!("arn:{}:{}:", who.partition, service.arn_service);
    let suffix = format!(":{}:*", who.account);
    as_list(stmt.pointer("/Condition/ArnLike/aws:SourceArn"))
        .into_iter()
        .filter(|a| a.starts_with(&prefix) && a.ends_with(&suffix))
        .collect()
}

fn covers_region(arns: &[String], service: TrustedService, who: &CallerIdentity) -> bool {
    let wanted = source_arn(service, who);
    let any_region = who.arn(service.arn_service, "*", "*");
    arns.iter().any(|a| *a == wanted || *a == any_region)
}

/// Whether the policy lets the service assume the role at all (conditions aside).
pub fn allows(doc: &Value, service: TrustedService) -> bool {
    statements(doc)
        .iter()
        .any(|s| names_service(s, service) && allows_assume(s))
}

/// What is wrong with a trust policy, one finding per line; empty when it is right.
pub fn drift(doc: &Value, service: TrustedService, who: &CallerIdentity) -> Vec<String> {
    let stmts = statements(doc);
    let Some(stmt) = stmts
        .iter()
        .find(|s| names_service(s, service) && allows_assume(s))
    else {
        return vec![format!(
            "trust policy does not allow {} to sts:AssumeRole",
            service.principal
        )];
    };
    let mut findings = Vec::new();
    let accounts = as_list(stmt.pointer("/Condition/StringEquals/aws:SourceAccount"));
    if accounts.is_empty() {
        findings.push("trust policy lacks the aws:SourceAccount condition".to_string());
    } else if accounts != [who.account.clone()] {
        findings.push(format!(
            "trust policy aws:SourceAccount is {} instead of {}",
            accounts.join(","),
            who.account
        ));
    }
    let arns = as_list(stmt.pointer("/Condition/ArnLike/aws:SourceArn"));
    if arns.is_empty() {
        findings.push("trust policy lacks the aws:SourceArn condition".to_string());
    } else if !covers_region(&arns, service, who) {
        findings.push(format!(
            "trust policy aws:SourceArn does not cover {}",
            source_arn(service, who)
        ));
    }
    findings
}

/// The repaired policy: statements for other principals are kept as they are; the service is
/// taken out of any statement it shared, and one canonical statement for it is added.
pub fn repair(doc: &Value, service: TrustedService, who: &CallerIdentity) -> Value {
    let mut out = Vec::new();
    let mut arns = Vec::new();
    for mut stmt in statements(doc) {
        if !names_service(&stmt, service) {
            out.push(stmt);
            continue;
        }
        for a in kept_source_arns(&stmt, service, who) {
            if !arns.contains(&a) {
                arns.push(a);
            }
        }
        let others: Vec<String> = as_list(stmt.pointer("/Principal/Service"))
            .into_iter()
            .filter(|p| p != service.principal)
            .collect();
        let other_principals = stmt
            .get("Principal")
            .and_then(Value::as_object)
            .map(|p| p.keys().any(|k| k != "Service"))
            .unwrap_or(false);
        if !others.is_empty() || other_principals {
            stmt["Principal"]["Service"] = json!(others);
            if others.is_empty() {
                if let Some(p) = stmt["Principal"].as_object_mut() {
                    p.remove("Service");
                }
            }
            out.push(stmt);
        }
    }
    if !covers_region(&arns, service, who) {
        arns.push(source_arn(service, who));
    }
    out.push(statement(service, who, arns));
    json!({ "Version": "2012-10-17", "Statement": out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(region: &str, partition: &str) -> CallerIdentity {
        CallerIdentity {
            account: "123456789012".into(),
            arn: format!("arn:{partition}:iam::123456789012:user/admin"),
            partition: partition.into(),
            region: region.into(),
        }
    }

    #[test]
    fn fresh_document_has_no_drift_and_is_partition_aware() {
        let w = who("cn-north-1", "aws-cn");
        let doc = document(SSM, &w);
        assert!(drift(&doc, SSM, &w).is_empty());
        assert_eq!(
            doc.pointer("/Statement/0/Condition/ArnLike/aws:SourceArn"),
            Some(&json!("arn:aws-cn:ssm:cn-north-1:123456789012:*"))
        );
        assert_eq!(
            doc.pointer("/Statement/0/Principal/Service"),
            Some(&json!("ssm.amazonaws.com"))
        );
    }

    #[test]
    fn finds_each_kind_of_drift() {
        let w = who("us-east-1", "aws");
        let seed_doc = json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":[""]},"Action":"sts:AssumeRole"}});
        assert_eq!(drift(&seed_doc, SSM, &w).len(), 1);
        let no_cond = json!({"Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com"]},"Action":["sts:AssumeRole"]}]});
        assert_eq!(drift(&no_cond, SSM, &w).len(), 2);
        let mut wrong = document(SSM, &w);
        wrong["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] = json!("999");
        wrong["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] =
            json!("arn:aws:ssm:eu-west-1:123456789012:*");
        let found = drift(&wrong, SSM, &w);
        assert!(found[0].contains("999"), "{found:?}");
        assert!(found[1].contains("us-east-1"), "{found:?}");
    }

    #[test]
    fn repair_keeps_other_principals_and_regions() {
        let w = who("us-east-1", "aws");
        let doc = json!({"Statement":[
            {"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole",
             "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ssm:eu-west-1:123456789012:*"}}},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}
        ]});
        let fixed = repair(&doc, SSM, &w);
        assert!(drift(&fixed, SSM, &w).is_empty(), "{fixed}");
        let stmts = fixed["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(
            stmts[0]["Principal"]["Service"],
            json!(["ec2.amazonaws.com"])
        );
        assert_eq!(
            stmts[1]["Principal"]["AWS"],
            json!("arn:aws:iam::123456789012:root")
        );
        assert_eq!(
            stmts[2]["Condition"]["ArnLike"]["aws:SourceArn"],
            json!([
                "arn:aws:ssm:eu-west-1:123456789012:*",
                "arn:aws:ssm:us-east-1:123456789012:*"
            ])
        );
        // Repair is a fixed point.
        assert_eq!(repair(&fixed, SSM, &w), fixed);
    }
}
