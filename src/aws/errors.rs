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
            "no AWS credentials for {action}: {chain}; provide them through the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), a profile (--profile), or an instance role"
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
    lower.contains("no credentials")
        || lower.contains("credentials provider")
        || lower.contains("failed to load credentials")
        || lower.contains("the credential provider was not enabled")
        || lower.contains("identity")
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
