"""The command line: write or check the tree's manifests, or print fresh Secrets (usage in the
package's docstring)."""

import argparse
import sys

import yaml

from common.env import verbatim
from common.paths import REPO_ROOT
from deploy import k8s


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.k8s", description=k8s.__doc__.splitlines()[0]
    )
    parser.add_argument("action", nargs="?", choices=["write", "secrets"], default="write")
    parser.add_argument("--check", action="store_true", help="fail if the tree differs")
    parser.add_argument("--overlay", choices=["dev", "prod"], default="dev")
    parser.add_argument(
        "--database-url-template",
        default="",
        help="prod: each service's database, {service} replaced, e.g. "
        "postgresql://streamify:PASSWORD@db.example:5432/streamify_{service}",
    )
    parser.add_argument("--broker-url", default="", help="prod: amqp://user:password@host:5672//")
    parser.add_argument("--redis-url", default="", help="prod: redis://host:6379/0")
    parser.add_argument("--media-bucket", default="", help="prod: the S3 bucket for media")
    parser.add_argument("--media-endpoint-url", default="", help="prod: unless AWS S3 itself")
    parser.add_argument("--media-region", default="", help="prod: the bucket's region")
    args = parser.parse_args()
    if args.action == "secrets":
        if args.overlay == "prod" and not (
            "{service}" in args.database_url_template
            and args.broker_url
            and args.redis_url
            and args.media_bucket
        ):
            parser.error(
                "prod needs --database-url-template (with {service}), --broker-url, "
                "--redis-url and --media-bucket (credentials: AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY in the environment)"
            )
        media = {
            "STREAMIFY_MEDIA_BUCKET": args.media_bucket,
            "STREAMIFY_MEDIA_ENDPOINT_URL": args.media_endpoint_url,
            "STREAMIFY_MEDIA_REGION": args.media_region,
            "AWS_ACCESS_KEY_ID": verbatim("AWS_ACCESS_KEY_ID"),
            "AWS_SECRET_ACCESS_KEY": verbatim("AWS_SECRET_ACCESS_KEY"),
        }
        made = k8s.secrets(
            overlay=args.overlay,
            database_url=args.database_url_template,
            broker_url=args.broker_url,
            redis_url=args.redis_url,
            media=media,
        )
        sys.stdout.write("---\n".join(yaml.safe_dump(o, sort_keys=False) for o in made))
        return 0
    stale = []
    for path, text in k8s.files().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(REPO_ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print(
            f"out of date (run python -m deploy.k8s): {', '.join(map(str, stale))}", file=sys.stderr
        )
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
