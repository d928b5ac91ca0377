//! SSM hybrid activations: validating a request before any AWS call, creating it while
//! waiting out IAM propagation (and nothing else), and choosing what `prune` removes.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use aws_smithy_types::DateTime;

use crate::aws::errors::{classify, is_iam_propagation};
use crate::aws::ssm::{self, ActivationRecord, CreatedActivation, NewActivation};
use crate::error::{Error, Result};
use crate::role::MANAGED_TAG;

pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_400);
pub const DEFAULT_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);

/// When the activation expires: `--expires-in` or `--expires-at`.
#[derive(Debug, Clone, Copy)]
pub enum Expiry {
    In(Duration),
    At(DateTime),
}

/// Checks an expiry against "now" and the 30-day limit, and returns the absolute time.
pub fn expiry_time(expiry: Expiry, now: SystemTime) -> Result<DateTime> {
    let now_secs = DateTime::from(now).secs();
    let at = match expiry {
        Expiry::In(d) => {
            if d.is_zero() {
                return Err(Error::Usage("--expires-in must be more than 0s".into()));
            }
            if d > MAX_LIFETIME {
                return Err(Error::Usage(format!(
                    "--expires-in {}s is more than the 30 days SSM allows",
                    d.as_secs()
                )));
            }
            DateTime::from_secs(now_secs + d.as_secs() as i64)
        }
        Expiry::At(at) => {
            if at.secs() <= now_secs {
                return Err(Error::Usage(format!(
                    "--expires-at {} is in the past",
                    ssm::fmt_time(&at)
                )));
            }
            if at.secs() - now_secs > MAX_LIFETIME.as_secs() as i64 {
                return Err(Error::Usage(format!(
                    "--expires-at {} is more than 30 days ahead, the most SSM allows",
                    ssm::fmt_time(&at)
                )));
            }
            at
        }
    };
    Ok(at)
}

pub fn parse_time(s: &str) -> std::result::Result<DateTime, String> {
    DateTime::from_str(s.trim(), aws_smithy_types::date_time::Format::DateTime)
        .map_err(|_| format!("`{s}` is not an RFC 3339 time such as 2026-12-01T00:00:00Z"))
}

fn tag_char_ok(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// SSM's limits for names, descriptions and tags, checked before any call.
pub fn validate_fields(
    instance_name: Option<&str>,
    description: Option<&str>,
    tags: &BTreeMap<String, String>,
) -> Result<()> {
    if let Some(name) = instance_name {
        if name.chars().count() > 256 || !name.chars().all(tag_char_ok) {
            return Err(Error::Usage(format!(
                "instance name `{name}`: at most 256 letters, digits, spaces and _.:/=+-@"
            )));
        }
    }
    if let Some(d) = description {
        if d.chars().count() > 256 {
            return Err(Error::Usage(
                "description: at most 256 characters".to_string(),
            ));
        }
    }
    if tags.len() > 49 {
        return Err(Error::Usage(format!(
            "{} tags given; an activation takes at most 50, one of which is {}",
            tags.len(),
            MANAGED_TAG.0
        )));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || !k.chars().all(tag_char_ok) {
            return Err(Error::Usage(format!(
                "tag key `{k}`: 1 to 128 letters, digits, spaces and _.:/=+-@"
            )));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(Error::Usage(format!(
                "tag key `{k}`: the aws: prefix is reserved"
            )));
        }
        if v.chars().count() > 256 || !v.chars().all(tag_char_ok) {
            return Err(Error::Usage(format!(
                "tag `{k}`: value of at most 256 letters, digits, spaces and _.:/=+-@"
            )));
        }
    }
    Ok(())
}

/// Creates the activation, retrying only IAM's propagation error until `deadline` has passed.
pub async fn create(
    client: &aws_sdk_ssm::Client,
    req: &NewActivation<'_>,
    deadline: Duration,
) -> Result<CreatedActivation> {
    let started = Instant::now();
    let mut delay = Duration::from_secs(1);
    let mut attempt = 1;
    loop {
        match ssm::create_activation(client, req).await {
            Ok(created) => return Ok(created),
            Err(e) if is_iam_propagation(&e) => {
                let elapsed = started.elapsed();
                if elapsed >= deadline {
                    return Err(Error::Aws {
                        action: "ssm:CreateActivation".into(),
                        object: format!("role {}", req.role),
                        detail: format!(
                            "SSM still reports `Nonexistent role or missing ssm service principal in trust policy` after {}s; check the role with `ecs-anywhere role show`, or raise activation.propagation_timeout",
                            elapsed.as_secs()
                        ),
                    });
                }
                let wait = delay.min(deadline - elapsed);
                tracing::info!(
                    role = req.role,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "the role has not reached SSM yet (IAM propagation); retrying"
                );
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(8));
                attempt += 1;
            }
            Err(e) => {
                return Err(classify(
                    "ssm:CreateActivation",
                    &format!("role {}", req.role),
                    e,
                ))
            }
        }
    }
}

/// Activations `prune` removes: ours (tagged), and no longer able to register anything.
pub fn prunable(all: &[ActivationRecord]) -> Vec<&ActivationRecord> {
    all.iter()
        .filter(|a| a.tags.get(MANAGED_TAG.0).map(String::as_str) == Some(MANAGED_TAG.1))
        .filter(|a| a.expired || a.exhausted())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    const PROPAGATION: &str = "Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::123456789012:role/r";

    fn validation(message: &'static str) -> Response {
        let body = format!(r#"{{"__type":"ValidationException","message":"{message}"}}"#);
        Response::new(StatusCode::try_from(400).unwrap(), SdkBody::from(body))
    }

    fn created() -> Response {
        let body = r#"{"ActivationId":"1b2c3d4e-0000-1111-2222-333344445555","ActivationCode":"abcdefghijklmnopqrst"}"#;
        Response::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body))
    }

    fn request(tags: &BTreeMap<String, String>) -> NewActivation<'_> {
        NewActivation {
            role: "r",
            registration_limit: 1,
            expires_at: DateTime::from_secs(4_102_444_800),
            instance_name: None,
            description: None,
            tags,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waits_out_iam_propagation_then_succeeds() {
        let rule = mock!(aws_sdk_ssm::Client::create_activation)
            .sequence()
            .http_response(|| validation(PROPAGATION))
            .times(3)
            .http_response(created)
            .build();
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule]);
        let tags = BTreeMap::new();
        let start = Instant::now();
        let got = create(&client, &request(&tags), Duration::from_secs(120))
            .await
            .unwrap();
        assert_eq!(got.code.expose(), "abcdefghijklmnopqrst");
        assert_eq!(rule.num_calls(), 4);
        // 1 s + 2 s + 4 s of back-off, in paused (virtual) time.
        assert_eq!(start.elapsed().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline_with_the_fix() {
        let rule = mock!(aws_sdk_ssm::Client::create_activation)
            .sequence()
            .http_response(|| validation(PROPAGATION))
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule]);
        let tags = BTreeMap::new();
        let err = create(&client, &request(&tags), Duration::from_secs(20))
            .await
            .unwrap_err();
        assert_eq!(err.exit_code().code(), 1);
        assert!(
            err.to_string().contains("activation.propagation_timeout"),
            "{err}"
        );
        // 1+2+4+8 = 15 s, then 5 s to the deadline, then one last try.
        assert_eq!(rule.num_calls(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn other_validation_errors_are_not_retried() {
        let rule = mock!(aws_sdk_ssm::Client::create_activation)
            .sequence()
            .http_response(|| {
                validation("1 validation error detected: Value at 'registrationLimit'")
            })
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule]);
        let tags = BTreeMap::new();
        let err = create(&client, &request(&tags), Duration::from_secs(120))
            .await
            .unwrap_err();
        assert_eq!(rule.num_calls(), 1);
        assert!(err.to_string().contains("registrationLimit"), "{err}");
    }

    #[test]
    fn expiry_limits() {
        let now = SystemTime::now();
        let base = DateTime::from(now).secs();
        let at = expiry_time(Expiry::In(Duration::from_secs(3600)), now).unwrap();
        assert_eq!(at.secs(), base + 3600);
        assert!(expiry_time(Expiry::In(MAX_LIFETIME), now).is_ok());
        assert!(expiry_time(Expiry::In(MAX_LIFETIME + Duration::from_secs(1)), now).is_err());
        assert!(expiry_time(Expiry::In(Duration::ZERO), now).is_err());
        assert!(expiry_time(Expiry::At(DateTime::from_secs(base - 1)), now).is_err());
        assert!(expiry_time(Expiry::At(DateTime::from_secs(base + 31 * 86_400)), now).is_err());
        assert!(parse_time("2026-12-01T00:00:00Z").is_ok());
        assert!(parse_time("tomorrow").is_err());
    }

    #[test]
    fn field_limits() {
        let mut tags = BTreeMap::new();
        assert!(validate_fields(Some("web-01"), Some("d"), &tags).is_ok());
        assert!(validate_fields(Some(&"x".repeat(257)), None, &tags).is_err());
        assert!(validate_fields(None, Some(&"x".repeat(257)), &tags).is_err());
        tags.insert("aws:thing".into(), "v".into());
        assert!(validate_fields(None, None, &tags).is_err());
        tags.clear();
        tags.insert("k".into(), "bad\u{0}value".into());
        assert!(validate_fields(None, None, &tags).is_err());
    }

    fn rec(id: &str, managed: bool, expired: bool, used: i32) -> ActivationRecord {
        let mut tags = BTreeMap::new();
        if managed {
            tags.insert(MANAGED_TAG.0.to_string(), "true".to_string());
        }
        ActivationRecord {
            id: id.into(),
            role: "r".into(),
            description: None,
            default_instance_name: None,
            registration_limit: 2,
            registrations: used,
            expired,
            expires_at: None,
            created_at: None,
            tags,
        }
    }

    #[test]
    fn prune_only_takes_our_dead_activations() {
        let all = vec![
            rec("live", true, false, 1),
            rec("expired", true, true, 0),
            rec("used-up", true, false, 2),
            rec("foreign-expired", false, true, 0),
        ];
        let ids: Vec<_> = prunable(&all).iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["expired", "used-up"]);
    }
}
