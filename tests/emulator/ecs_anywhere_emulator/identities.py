"""The two IAM users the emulator starts with, created in-process.

`admin` has AdministratorAccess and `restricted` has ReadOnlyAccess. Their
keys are generated once per process and re-installed after every reset, so
a client keeps working across `/_emulator/reset`."""

from __future__ import annotations

from dataclasses import dataclass

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

USERS = {
    "admin": "AdministratorAccess",
    "restricted": "ReadOnlyAccess",
}


@dataclass
class KeyPair:
    access_key_id: str
    secret_access_key: str


class Identities:
    def __init__(self, region: str, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self.partition = get_partition(region)
        self.keys: dict[str, KeyPair] = {}

    def bootstrap(self) -> None:
        iam = iam_backends[self.account_id][self.partition]
        for user_name, policy in USERS.items():
            iam.create_user(region_name=self.region, user_name=user_name, path="/", tags=[])
            iam.attach_user_policy(f"arn:{self.partition}:iam::aws:policy/{policy}", user_name)
            key = iam.create_access_key(user_name)
            wanted = self.keys.get(user_name)
            if wanted is None:
                self.keys[user_name] = KeyPair(key.access_key_id, key.secret_access_key)
                continue
            # Same keys as before the reset: re-key the fresh moto objects.
            del iam.access_keys[key.access_key_id]
            key.access_key_id = wanted.access_key_id
            key.secret_access_key = wanted.secret_access_key
            iam.access_keys[key.access_key_id] = key

    def exports(self, endpoint: str) -> list[str]:
        admin, restricted = self.keys["admin"], self.keys["restricted"]
        return [
            f"export AWS_ENDPOINT_URL={endpoint}",
            f"export AWS_REGION={self.region}",
            f"export AWS_ACCESS_KEY_ID={admin.access_key_id}",
            f"export AWS_SECRET_ACCESS_KEY={admin.secret_access_key}",
            f"export RESTRICTED_AWS_ACCESS_KEY_ID={restricted.access_key_id}",
            f"export RESTRICTED_AWS_SECRET_ACCESS_KEY={restricted.secret_access_key}",
        ]
