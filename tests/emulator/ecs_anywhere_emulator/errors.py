"""AWS errors and their wire shapes for the two protocols the emulator speaks.

JSON 1.1 (SSM, ECS): body `{"__type": code, "message": ...}` plus the
`x-amzn-ErrorType` header. Query (IAM, STS): the XML `ErrorResponse`
document. Both are what botocore and the Rust SDK parse for real AWS."""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

# Status codes used when a fault rule or a caller names only the error code.
_DEFAULT_STATUS = {
    "ThrottlingException": 400,
    "Throttling": 400,
    "TooManyRequestsException": 400,
    "RequestLimitExceeded": 400,
    "ProvisionedThroughputExceededException": 400,
    "InternalServerError": 500,
    "InternalFailure": 500,
    "InternalError": 500,
    "ServerException": 500,
    "ServiceFailure": 500,
    "ServiceUnavailable": 503,
    "ServiceUnavailableException": 503,
}

_DEFAULT_MESSAGE = {
    "ThrottlingException": "Rate exceeded",
    "Throttling": "Rate exceeded",
    "TooManyRequestsException": "Rate exceeded",
    "RequestLimitExceeded": "Request limit exceeded.",
    "InternalServerError": "An internal error occurred.",
    "InternalFailure": "An internal error occurred.",
    "InternalError": "An internal error occurred.",
    "ServerException": "An internal error occurred.",
    "ServiceUnavailable": "Service Unavailable",
    "ServiceUnavailableException": "Service Unavailable",
}

_XMLNS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


def default_status(code: str) -> int:
    return _DEFAULT_STATUS.get(code, 400)


def default_message(code: str) -> str:
    return _DEFAULT_MESSAGE.get(code, f"{code}")


class AwsError(Exception):
    """An error to send back exactly as the AWS service would.

    `message_key` is the JSON member name the service model uses ("message"
    for most, "Message" for the SSM exceptions modelled with `Message`)."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        status: int | None = None,
        message_key: str = "message",
        query_status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message if message is not None else default_message(code)
        self.status = status if status is not None else default_status(code)
        self.message_key = message_key
        # The query protocol sends auth errors as 403 where JSON services send 400.
        self.query_status = query_status if query_status is not None else self.status


def new_request_id() -> str:
    return str(uuid.uuid4())


def render_json(err: AwsError, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"__type": err.code, err.message_key: err.message}).encode()
    headers = [
        ("Content-Type", JSON_CONTENT_TYPE),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", err.code),
        ("Content-Length", str(len(body))),
    ]
    return err.status, headers, body


def render_query(
    err: AwsError, request_id: str, service: str | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    status = err.query_status
    kind = "Receiver" if status >= 500 else "Sender"
    xmlns = _XMLNS.get(service or "", "")
    ns_attr = f' xmlns="{xmlns}"' if xmlns else ""
    body = (
        f"<ErrorResponse{ns_attr}>"
        f"<Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>"
        f"<Message>{escape(err.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId>"
        f"</ErrorResponse>"
    ).encode()
    headers = [
        ("Content-Type", "text/xml"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(body))),
    ]
    return status, headers, body


def render(
    err: AwsError, protocol: str, service: str | None, request_id: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    if protocol == "query":
        return render_query(err, request_id, service)
    return render_json(err, request_id)


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def constraint(value: object, member: str, constraint_text: str) -> AwsError:
    """AWS's wording for a request member that breaks its model constraint."""
    return validation(
        f"1 validation error detected: Value '{value}' at '{member}' "
        f"failed to satisfy constraint: {constraint_text}"
    )
