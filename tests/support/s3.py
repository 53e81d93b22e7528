"""A real S3 API for tests: moto's standalone server (``python -m moto.server``, from PyPI).

Started on a free port with authentication switched on: after the few
unauthenticated calls that create an IAM user, its key and the bucket,
every request must be signed with that user's key
(``INITIAL_NO_AUTH_ACTION_COUNT``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator

from tests.support.appserver import free_port
from tests.support.services import wait_port

BUCKET = "blabber-test"
SETUP_CALLS = 4  # create the user, its access key, its policy, the bucket


@dataclasses.dataclass(frozen=True)
class S3Server:
    """Where the server listens and the only key it accepts."""

    endpoint: str
    key_id: str
    secret: str
    bucket: str = BUCKET

    def client(self, secret: str | None = None):
        """A boto3 S3 client signing with this server's key (or with ``secret`` instead)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key_id,
            aws_secret_access_key=secret or self.secret,
        )

    def app_env(self, prefix: str = "uploads") -> dict[str, str]:
        """The environment that points Blabber's storage here."""
        return {
            "BLABBER_STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "BLABBER_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    """moto's S3 server with credentials enforced, for the duration of the block."""
    import boto3

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, up=True)
        endpoint = f"http://127.0.0.1:{port}"
        anonymous = {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **anonymous)
        iam.create_user(UserName="blabber")
        key = iam.create_access_key(UserName="blabber")["AccessKey"]
        iam.put_user_policy(
            UserName="blabber",
            PolicyName="files",
            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Action":"s3:*","Resource":"*"}]}',
        )
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **anonymous)
        s3.create_bucket(Bucket=BUCKET)
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
