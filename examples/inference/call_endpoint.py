"""Call a dedicated endpoint through its OpenAI-compatible API, after `pulumi up`.

Where the two coordinates come from, first match wins:

    routing key   --routing-key, env TOKENFACTORY_ROUTING_KEY,         stack output `routing_key`
    base URL      --base-url,    env TOKENFACTORY_INFERENCE_BASE_URL,  stack output `inference_base_url`

Stack outputs are read with `pulumi stack output --json` (in --project-dir,
for --stack), and only when a value is not given otherwise. The API token
is read from TOKENFACTORY_API_KEY only, so that it never shows in a shell
history or a process list.

A new endpoint answers 404 Not Found until it is running (startup takes 10
to 15 minutes). Without --wait the script says so and exits with status 3;
with --wait SECONDS it keeps retrying, with growing pauses, for that long.

Exit status: 0 answered, 1 other API error, 2 missing settings, 3 not ready (404).

    python call_endpoint.py --prompt "Explain RAG in one sentence." --wait 900
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

API_KEY_ENV = "TOKENFACTORY_API_KEY"
ROUTING_KEY_ENV = "TOKENFACTORY_ROUTING_KEY"
BASE_URL_ENV = "TOKENFACTORY_INFERENCE_BASE_URL"
DEFAULT_PROMPT = "Explain the difference between LLM fine-tuning and RAG."

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_NOT_READY = 0, 1, 2, 3
#: Pauses between retries of a 404: quick at first (a fast start, the emulator), then every 30 s.
FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS = 1.0, 30.0


class UsageError(Exception):
    """A setting is missing or unreadable; the message says how to provide it."""


@dataclass(frozen=True)
class Target:
    """Everything needed to call one endpoint."""

    routing_key: str
    base_url: str
    api_key: str


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def stack_outputs(project_dir: str | None, stack: str | None, run: Runner = subprocess.run) -> dict[str, Any]:
    """`pulumi stack output --json` of the selected (or given) stack: nothing in it is secret."""
    if shutil.which("pulumi") is None:
        raise UsageError("the `pulumi` CLI is not on PATH, so stack outputs cannot be read: pass --routing-key "
                         f"and --base-url (or set {ROUTING_KEY_ENV} and {BASE_URL_ENV})")
    command = ["pulumi", "stack", "output", "--json"]
    if stack:
        command += ["--stack", stack]
    done = run(command, cwd=project_dir, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UsageError(f"`{' '.join(command)}` failed: {done.stderr.strip() or done.stdout.strip()}")
    try:
        outputs = json.loads(done.stdout or "{}")
    except ValueError as exc:
        raise UsageError(f"`{' '.join(command)}` did not print JSON ({exc})") from None
    if not isinstance(outputs, dict):
        raise UsageError(f"`{' '.join(command)}` printed {type(outputs).__name__}, not an object")
    return outputs


def resolve_target(args: argparse.Namespace, env: dict[str, str] | os._Environ[str],
                   run: Runner = subprocess.run) -> Target:
    """Apply the precedence described in the module docstring; touch the CLI only when needed."""
    api_key = (env.get(API_KEY_ENV) or "").strip()
    if not api_key:
        raise UsageError(f"no API token: export {API_KEY_ENV}=<your Token Factory API token>")
    routing_key = args.routing_key or env.get(ROUTING_KEY_ENV)
    base_url = args.base_url or env.get(BASE_URL_ENV)
    if not (routing_key and base_url):
        outputs = stack_outputs(args.project_dir, args.stack, run)
        routing_key = routing_key or outputs.get("routing_key")
        base_url = base_url or outputs.get("inference_base_url")
        if not routing_key or not base_url:
            missing = [name for name, value in (("routing_key", routing_key), ("inference_base_url", base_url))
                       if not value]
            raise UsageError(f"the stack has no output {' or '.join(missing)}: has `pulumi up` completed?")
    return Target(routing_key=str(routing_key), base_url=str(base_url), api_key=api_key)


def ask(target: Target, prompt: str, *, wait: float, max_tokens: int | None = None,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)) -> str:
    """Send one chat completion; retry a 404 (endpoint still starting) for up to `wait` seconds.

    Any other error is raised as the `openai` exception it is.
    """
    import openai  # imported here so that --help and settings errors work without it

    client = openai.OpenAI(base_url=target.base_url, api_key=target.api_key)
    deadline = clock() + wait
    pause = FIRST_RETRY_SECONDS
    while True:
        try:
            if max_tokens:
                response = client.chat.completions.create(
                    model=target.routing_key, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens)
            else:
                response = client.chat.completions.create(
                    model=target.routing_key, messages=[{"role": "user", "content": prompt}])
        except openai.NotFoundError:
            left = deadline - clock()
            if left <= 0:
                raise
            pause = min(pause, left)
            log(f"{target.routing_key}: 404 Not Found, the endpoint is probably still starting; "
                f"retrying in {pause:.0f}s ({left:.0f}s left)")
            sleep(pause)
            pause = min(MAX_RETRY_SECONDS, pause * 2)
            continue
        return response.choices[0].message.content or ""


def not_ready_message(target: Target, wait: float) -> str:
    waited = f" after retrying for {wait:g}s" if wait > 0 else ""
    return (f"The endpoint answered 404 Not Found for model {target.routing_key!r}{waited}.\n"
            "A dedicated endpoint answers 404 until it is running; startup takes 10 to 15 minutes.\n"
            "Check its state with `pulumi refresh --yes && pulumi stack output status`, then run this "
            "script again, or pass --wait 900 to keep retrying for up to 15 minutes.\n"
            "If the status is `running`, check that the routing key belongs to this base URL's region.")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="the user message to send")
    parser.add_argument("--routing-key", help="the endpoint's routing key (the `model` of the request)")
    parser.add_argument("--base-url", help="OpenAI-compatible base URL ending in /v1/")
    parser.add_argument("--stack", help="the stack to read outputs from (default: the selected stack)")
    parser.add_argument("--project-dir", default=os.path.dirname(os.path.abspath(__file__)),
                        help="the Pulumi project whose stack outputs to read (default: this folder)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="keep retrying a 404 (endpoint still starting) for this long (default 0)")
    parser.add_argument("--max-tokens", type=int, default=None, help="cap the answer's length")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, env: dict[str, str] | None = None,
         run: Runner = subprocess.run, sleep: Callable[[float], None] = time.sleep) -> int:
    """Resolve, call, print the answer on stdout; problems go to stderr with an exit status."""
    args = parse_args(argv)
    try:
        target = resolve_target(args, os.environ if env is None else env, run)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    import openai

    try:
        answer = ask(target, args.prompt, wait=args.wait, max_tokens=args.max_tokens, sleep=sleep)
    except openai.NotFoundError:
        print(not_ready_message(target, args.wait), file=sys.stderr)
        return EXIT_NOT_READY
    except openai.AuthenticationError as exc:
        print(f"error: the API refused the token (HTTP {exc.status_code}): check {API_KEY_ENV}", file=sys.stderr)
        return EXIT_API_ERROR
    except openai.APIConnectionError:
        print(f"error: could not reach {target.base_url}: check --base-url / the stack's inference_base_url",
              file=sys.stderr)
        return EXIT_API_ERROR
    except openai.APIStatusError as exc:
        print(f"error: the endpoint answered HTTP {exc.status_code}: {exc.message}", file=sys.stderr)
        return EXIT_API_ERROR
    print(answer)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
