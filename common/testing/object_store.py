"""A private S3 API per test: moto's server mode, a real HTTP server on a free port."""

import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import requests

from common.testing.processes import free_port, wait_for

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "streamify-test", "AWS_SECRET_ACCESS_KEY": "streamify-test"}
REGION = "us-east-1"


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def bucket(self, name: str) -> dict:
        """Create bucket `name`; return the environment that puts a service's media in it."""
        self.client().create_bucket(Bucket=name)
        return {
            "STREAMIFY_MEDIA_BUCKET": name,
            "STREAMIFY_MEDIA_ENDPOINT_URL": self.endpoint,
            "STREAMIFY_MEDIA_REGION": REGION,
            **CREDENTIALS,
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@contextmanager
def private_object_store():
    """Yield an S3 API of its own (moto server), stopped afterwards."""
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{endpoint}/moto-api/", timeout=1).ok, timeout=30,
                 what="moto server")  # fmt: skip
        yield ObjectStore(endpoint)
    finally:
        server.terminate()
        server.wait(timeout=10)
