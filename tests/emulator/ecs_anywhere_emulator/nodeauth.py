"""The managed-instance (node) request signature, both sides.

The SSM agent authenticates `RequestManagedInstanceRoleToken` and
`UpdateManagedInstancePublicKey` with its registration key pair instead of
AWS credentials (amazon-ssm-agent `agent/ssm/rsaauth`, `SignRsa`): a SigV4
request whose access key id is the managed instance id and whose signature is
an RSA-PSS/SHA-256 signature (salt 32 bytes, base64) of the SigV4
string-to-sign, made with the private key whose public half was sent to
`RegisterManagedInstance`. `sign_request` is the client side, for tests and
stand-in agents; `verify_request` is what the emulator checks."""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHM = "AWS4-HMAC-SHA256"
SALT_LENGTH = 32


class NodeAuthError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind  # "missing" | "malformed" | "signature"
        self.detail = detail


# --- keys -----------------------------------------------------------------------


def generate_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def encode_public_key(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """base64 of the DER SubjectPublicKeyInfo (Go x509.MarshalPKIXPublicKey)."""
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def encode_private_key(key: rsa.RSAPrivateKey) -> str:
    """base64 of the DER PKCS#1 private key (the agent's `privateKey` format)."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode()


def decode_private_key(encoded: str) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(base64.b64decode(encoded), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def decode_public_key(encoded: str) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(base64.b64decode(encoded, validate=True))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


# --- SigV4 canonical form -------------------------------------------------------


def _uri_encode(s: str, keep_slash: bool) -> str:
    return quote(s, safe="-_.~/" if keep_slash else "-_.~")


def canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    enc = sorted((_uri_encode(k, False), _uri_encode(v, False)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def _header_value(values: Iterable[str]) -> str:
    return ",".join(re.sub(r" +", " ", v.strip()) for v in values)


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, list[str]],
    signed_headers: list[str],
    body: bytes,
) -> str:
    lines = [f"{h}:{_header_value(headers.get(h, []))}" for h in signed_headers]
    return "\n".join(
        [
            method.upper(),
            _uri_encode(path or "/", True),
            canonical_query(query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    return "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()]
    )


# --- client side ----------------------------------------------------------------


def _prepare(
    url: str,
    region: str,
    service: str,
    method: str,
    now: _dt.datetime | None,
    headers: Mapping[str, str],
    body: bytes,
    extra: Mapping[str, str],
) -> tuple[dict[str, str], list[str], str, str]:
    """The part both signers share: headers to send (given + Host, X-Amz-Date, extra), the
    signed header names, the credential scope and the SigV4 string to sign."""
    parts = urlsplit(url)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    out = dict(headers)
    out["Host"] = parts.netloc
    out["X-Amz-Date"] = amz_date
    out.update(extra)
    lower: dict[str, list[str]] = {}
    for k, v in out.items():
        lower.setdefault(k.lower(), []).append(v)
    signed = sorted(lower)
    creq = canonical_request(method, parts.path or "/", parts.query, lower, signed, body)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    return out, signed, scope, string_to_sign(amz_date, scope, creq)


def sign_request(
    *,
    url: str,
    region: str,
    instance_id: str,
    private_key: rsa.RSAPrivateKey,
    body: bytes,
    headers: Mapping[str, str],
    service: str = "ssm",
    method: str = "POST",
    now: _dt.datetime | None = None,
) -> dict[str, str]:
    """Headers to send (given headers + Host, X-Amz-Date, Authorization)."""
    out, signed, scope, sts = _prepare(url, region, service, method, now, headers, body, {})
    sig = private_key.sign(
        sts.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=SALT_LENGTH),
        hashes.SHA256(),
    )
    out["Authorization"] = (
        f"{ALGORITHM} Credential={instance_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={base64.b64encode(sig).decode()}"
    )
    return out


# --- server side ----------------------------------------------------------------


@dataclass
class ParsedAuthorization:
    instance_id: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str | None) -> ParsedAuthorization:
    if not value:
        raise NodeAuthError("missing", "Missing Authentication Token")
    if not value.startswith(ALGORITHM + " "):
        raise NodeAuthError("malformed", "Unsupported authorization algorithm")
    fields: dict[str, str] = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            fields[k] = v
    try:
        cred = fields["Credential"].split("/")
        instance_id, date, region, service, terminator = cred
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        raise NodeAuthError(
            "malformed",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        ) from None
    if terminator != "aws4_request":
        raise NodeAuthError("malformed", "Credential should be scoped with a valid terminator: 'aws4_request'.")
    return ParsedAuthorization(instance_id, date, region, service, signed, signature)


def verify_request(
    *,
    parsed: ParsedAuthorization,
    public_key_b64: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, list[str]],
    body: bytes,
) -> None:
    if "host" not in parsed.signed_headers:
        raise NodeAuthError("malformed", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    amz_dates = headers.get("x-amz-date") or []
    if not amz_dates:
        raise NodeAuthError(
            "malformed",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    amz_date = amz_dates[0]
    if amz_date[:8] != parsed.date:
        raise NodeAuthError("signature", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.")
    creq = canonical_request(method, path, query, headers, parsed.signed_headers, body)
    scope = f"{parsed.date}/{parsed.region}/{parsed.service}/aws4_request"
    sts = string_to_sign(amz_date, scope, creq)
    try:
        signature = base64.b64decode(parsed.signature, validate=True)
        decode_public_key(public_key_b64).verify(
            signature,
            sts.encode(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        raise NodeAuthError(
            "signature",
            "The request signature we calculated does not match the signature you provided.",
        ) from None


def sign_request_hmac(
    *,
    url: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    body: bytes,
    headers: Mapping[str, str],
    service: str = "ssm",
    method: str = "POST",
    now: _dt.datetime | None = None,
) -> dict[str, str]:
    """Plain SigV4 (HMAC-SHA256) with the same canonical form, for stand-in
    agents that have no AWS SDK (UpdateInstanceInformation with node creds)."""
    import hmac as _hmac

    extra = {"X-Amz-Security-Token": session_token} if session_token else {}
    out, signed, scope, sts = _prepare(url, region, service, method, now, headers, body, extra)
    amz_date = out["X-Amz-Date"]

    def _h(key: bytes, msg: str) -> bytes:
        return _hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = _h(("AWS4" + secret_access_key).encode(), amz_date[:8])
    k = _h(k, region)
    k = _h(k, service)
    k = _h(k, "aws4_request")
    sig = _hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={sig}"
    )
    return out
