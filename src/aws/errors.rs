//! Turns SDK errors into our typed errors: which exit code, and one line that names the
//! action, the object and the fix. Also the retry decision for IAM propagation.

use std::error::Error as StdError;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::error::Error;

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
];

const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidSignatureException",
];

/// Activation errors as returned by SSM; all mean "this activation cannot register a host".
const ACTIVATION: &[&str] = &[
    "InvalidActivation",
    "InvalidActivationId",
    "ActivationExpired",
    "RegistrationLimitExceeded",
];

/// The code and message of a service error, if the error is one.
pub fn service_code<E, R>(err: &SdkError<E, R>) -> Option<(&str, &str)>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            Some((e.code().unwrap_or("Unknown"), e.message().unwrap_or("")))
        }
        _ => None,
    }
}

/// Classifies a failed call to `action` (e.g. `iam:CreateRole`) on `object` (e.g. `role
/// ecsAnywhereRole`).
pub fn classify<E, R>(action: &str, object: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some((code, message)) = service_code(&err) {
        let detail = if message.is_empty() {
            code.to_string()
        } else {
            format!("{code}: {message}")
        };
        if ACCESS_DENIED.contains(&code) {
            return Error::AccessDenied {
                action: action.to_string(),
                object: object.to_string(),
                detail,
            };
        }
        if BAD_CREDENTIALS.contains(&code) {
            return Error::Credentials(format!(
                "AWS rejected the credentials used for {action} ({detail}); check the access key, session token and clock of this host, or the profile in use"
            ));
        }
        if ACTIVATION.contains(&code) {
            return Error::Activation(format!(
                "{action} on {object}: {detail}; create a new activation with `ecs-anywhere activation create`"
            ));
        }
        return Error::Aws {
            action: action.to_string(),
            object: object.to_string(),
            detail,
        };
    }
    let chain = source_chain(&err);
    if is_missing_credentials(&chain) {
        return Error::Credentials(format!(
            "no AWS credentials for {action} (tried the environment, profiles, web identity, container and instance metadata); provide them through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile, or an instance role"
        ));
    }
    let what = match &err {
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "could not reach the AWS endpoint",
        SdkError::ResponseError(_) => "got an unreadable response",
        SdkError::ConstructionFailure(_) => "could not build the request",
        _ => "failed",
    };
    Error::Aws {
        action: action.to_string(),
        object: object.to_string(),
        detail: format!("{what}: {chain}"),
    }
}

fn source_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p == &s) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn is_missing_credentials(chain: &str) -> bool {
    let lower = chain.to_ascii_lowercase();
    lower.contains("no credentials found")
        || lower.contains("the credential provider was not enabled")
        || lower.contains("failed to load credentials")
}

/// True for the one error `ssm:CreateActivation` gives while a new or changed role has not
/// reached SSM yet (IAM is eventually consistent). Only this error is worth waiting out.
pub fn is_iam_propagation<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(service_code(err), Some(("ValidationException", msg))
        if msg.contains("Nonexistent role or missing ssm service principal"))
}

/// True for a "does not exist" answer, which observers treat as state, not failure.
pub fn is_not_found<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(
        service_code(err),
        Some((
            "NoSuchEntity" | "NoSuchEntityException" | "InvalidActivation" | "InvalidInstanceId",
            _
        ))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_role::GetRoleError;
    use aws_smithy_mocks::{mock, mock_client};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    /// An IAM (query protocol) error response as it comes off the wire.
    fn iam_error(status: u16, code: &str, message: &str) -> Response {
        let body = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        );
        Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
    }

    /// An SSM (JSON 1.1) error response as it comes off the wire.
    fn json_error(status: u16, code: &str, message: &str) -> Response {
        let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
        Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
    }

    async fn iam_get_role_error(status: u16, code: &'static str, msg: &'static str) -> Error {
        let rule = mock!(aws_sdk_iam::Client::get_role)
            .then_http_response(move || iam_error(status, code, msg));
        let client = mock_client!(aws_sdk_iam, [&rule]);
        let err = client.get_role().role_name("r").send().await.unwrap_err();
        classify("iam:GetRole", "role r", err)
    }

    #[tokio::test]
    async fn access_denied_names_the_action_and_exits_3() {
        let err = iam_get_role_error(
            403,
            "AccessDenied",
            "User: arn:aws:iam::1:user/ro is not authorized to perform: iam:GetRole",
        )
        .await;
        assert_eq!(err.exit_code().code(), 3);
        let line = err.one_line();
        assert!(
            line.starts_with("access denied: iam:GetRole on role r"),
            "{line}"
        );
        assert!(line.contains("grant iam:GetRole"), "{line}");
    }

    #[tokio::test]
    async fn rejected_credentials_exit_3() {
        for code in [
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
        ] {
            let err = iam_get_role_error(403, code, "bad").await;
            assert_eq!(err.exit_code().code(), 3, "{code}");
            assert_eq!(err.kind(), "credentials");
        }
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_transient() {
        let err = iam_get_role_error(400, "Throttling", "Rate exceeded").await;
        assert_eq!(err.exit_code().code(), 1);
        assert!(err.to_string().contains("Throttling: Rate exceeded"));
    }

    #[tokio::test]
    async fn activation_errors_exit_4_with_the_fix() {
        for code in [
            "InvalidActivation",
            "ActivationExpired",
            "RegistrationLimitExceeded",
        ] {
            let rule = mock!(aws_sdk_ssm::Client::delete_activation)
                .then_http_response(move || json_error(400, code, "no"));
            let client = mock_client!(aws_sdk_ssm, [&rule]);
            let err = client
                .delete_activation()
                .activation_id("i")
                .send()
                .await
                .unwrap_err();
            let e = classify("ssm:DeleteActivation", "activation i", err);
            assert_eq!(e.exit_code().code(), 4, "{code}");
            assert!(e.to_string().contains("ecs-anywhere activation create"));
        }
    }

    #[tokio::test]
    async fn only_the_propagation_message_is_retryable() {
        let cases = [
            ("ValidationException", "Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::1:role/r", true),
            ("ValidationException", "Registration limit must be between 1 and 1000", false),
            ("ThrottlingException", "Nonexistent role or missing ssm service principal", false),
        ];
        for (code, msg, expect) in cases {
            let rule = mock!(aws_sdk_ssm::Client::create_activation)
                .then_http_response(move || json_error(400, code, msg));
            let client = mock_client!(aws_sdk_ssm, [&rule]);
            let err = client
                .create_activation()
                .iam_role("r")
                .send()
                .await
                .unwrap_err();
            assert_eq!(is_iam_propagation(&err), expect, "{code}: {msg}");
        }
    }

    #[tokio::test]
    async fn not_found_is_state_not_failure() {
        let rule = mock!(aws_sdk_iam::Client::get_role)
            .then_http_response(|| iam_error(404, "NoSuchEntity", "The role cannot be found"));
        let client = mock_client!(aws_sdk_iam, [&rule]);
        let err = client.get_role().role_name("r").send().await.unwrap_err();
        assert!(is_not_found(&err));
        assert!(matches!(
            err.as_service_error(),
            Some(GetRoleError::NoSuchEntityException(_))
        ));
        let rule = mock!(aws_sdk_ssm::Client::create_activation)
            .then_http_response(|| json_error(400, "InvalidParameters", "x"));
        let client = mock_client!(aws_sdk_ssm, [&rule]);
        let err = client.create_activation().send().await.unwrap_err();
        assert!(!is_not_found(&err));
    }
}
