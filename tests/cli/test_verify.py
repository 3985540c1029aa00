"""`ofevents verify` end to end: captures, stdin, --body/--header, key rotation, exit codes."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.core.signing import sign

SECRET = "whsec_" + base64.b64encode(b"verify-tests-signing-key-32bytes").decode()
HEX_SECRET = "ofapi-secret"
TS = 1_790_000_000
runner = CliRunner()


def capture(ident: str, scheme: str, secret: str, body: bytes = b'{"type":"tip.received"}',
            received: float = TS + 2) -> Capture:
    headers = [("Content-Type", "application/json"),
               *sign(scheme, secret, body, msg_id=f"msg_{ident}", timestamp=TS)]
    return Capture(ident, format_timestamp(received), "POST", "/webhooks", tuple(headers), body)


def write(path: Path, *lines: str) -> str:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_valid_capture_exits_0_with_one_json_object_per_delivery(tmp_path: Path) -> None:
    """All valid: exit 0, and --json prints the contract keys for each delivery."""
    file = write(tmp_path / "c.jsonl", capture("a", "svix", SECRET).to_json(),
                 capture("b", "standard-webhooks", SECRET).to_json())
    result = runner.invoke(app, ["verify", file, "--secret", SECRET, "--json"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", "b"]
    for record in records:
        assert set(record) >= {"id", "line", "provider", "scheme", "valid", "reason"}
        assert record["valid"] is True and record["provider"] == "ofauth"
    assert "2 deliveries: 2 valid" in result.stderr


def test_invalid_delivery_exits_1_with_reason(tmp_path: Path) -> None:
    """A tampered body is invalid with reason mismatch, exit 1; the good one stays valid."""
    bad = capture("bad", "ofapi", HEX_SECRET)
    tampered = Capture(bad.id, bad.received_at, "POST", "/", bad.headers, b'{"type":"tip"}')
    file = write(tmp_path / "c.jsonl", capture("ok", "ofapi", HEX_SECRET).to_json(),
                 tampered.to_json())
    result = runner.invoke(app, ["verify", file, "-s", HEX_SECRET, "--json"])
    assert result.exit_code == 1
    verdicts = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert verdicts["ok"]["valid"] is True
    assert verdicts["bad"]["valid"] is False and verdicts["bad"]["reason"] == "mismatch"


def test_timestamp_checked_against_received_at_not_wall_clock(tmp_path: Path) -> None:
    """An old capture verifies (received 2 s after signing); received 10 min later it does not."""
    file = write(tmp_path / "c.jsonl", capture("old", "svix", SECRET).to_json(),
                 capture("late", "svix", SECRET, received=TS + 600).to_json())
    result = runner.invoke(app, ["verify", file, "-s", SECRET, "--json"])
    verdicts = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert verdicts["old"]["valid"] is True
    assert verdicts["late"]["reason"] == "timestamp_outside_tolerance"
    pinned = runner.invoke(app, ["verify", file, "-s", SECRET, "--now", str(TS), "--json"])
    assert pinned.exit_code == 0
    wide = runner.invoke(app, ["verify", file, "-s", SECRET, "--tolerance", "900"])
    assert wide.exit_code == 0


def test_key_rotation_any_secret_may_match(tmp_path: Path) -> None:
    """Several --secret values: a delivery signed with any of them is valid."""
    other = "whsec_" + base64.b64encode(b"the-previous-key").decode()
    file = write(tmp_path / "c.jsonl", capture("a", "svix", other).to_json(),
                 capture("b", "svix", SECRET).to_json())
    result = runner.invoke(app, ["verify", file, "-s", other, "-s", SECRET])
    assert result.exit_code == 0, result.stdout


def test_malformed_lines_are_reported_and_the_rest_verified(tmp_path: Path) -> None:
    """A bad line is named on stderr with its number; later lines still verify; exit 2."""
    file = write(tmp_path / "c.jsonl", "{not json", capture("a", "ofapi", HEX_SECRET).to_json())
    result = runner.invoke(app, ["verify", file, "-s", HEX_SECRET, "--json"])
    assert result.exit_code == 2
    assert "line 1" in result.stderr and "skipped" in result.stderr
    assert json.loads(result.stdout)["id"] == "a"


def test_missing_file_does_not_stop_the_others(tmp_path: Path) -> None:
    """An unreadable file is reported; the next file is still verified; exit 2."""
    file = write(tmp_path / "c.jsonl", capture("a", "ofapi", HEX_SECRET).to_json())
    result = runner.invoke(app, ["verify", str(tmp_path / "nope.jsonl"), file, "-s", HEX_SECRET])
    assert result.exit_code == 2
    assert "nope.jsonl" in result.stderr and "✔ valid" in result.stdout


def test_secret_from_env_var_per_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """With no --secret, each delivery uses its provider's env var."""
    monkeypatch.setenv("OFAUTH_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("OFAPI_WEBHOOK_SECRET", HEX_SECRET)
    file = write(tmp_path / "c.jsonl", capture("a", "svix", SECRET).to_json(),
                 capture("b", "ofapi", HEX_SECRET).to_json())
    result = runner.invoke(app, ["verify", file])
    assert result.exit_code == 0, result.stdout + result.stderr


def test_no_secret_is_a_usage_error_naming_the_env_var(tmp_path: Path) -> None:
    """No secret anywhere: exit 2, one line, and a hint naming --secret and the env var."""
    file = write(tmp_path / "c.jsonl", capture("a", "ofapi", HEX_SECRET).to_json())
    result = runner.invoke(app, ["verify", file, "--provider", "ofapi"])
    assert result.exit_code == 2
    assert result.stderr.startswith("ofevents: error: no webhook secret")
    assert "OFAPI_WEBHOOK_SECRET" in result.stderr and "Traceback" not in result.stderr


def test_body_and_header_mode(tmp_path: Path) -> None:
    """--body FILE with --header lines verifies one raw delivery (onlyfansapi vector)."""
    body = tmp_path / "body.json"
    body.write_bytes(b'{"type":"connection.created"}')
    sig = "0dc208caf780bd849a5e7d72680d57f11ca0a1947d3211cba3799f1fc2963ff2"
    result = runner.invoke(app, ["verify", "--body", str(body), "-H", f"Signature: {sig}",
                                 "-s", "test_secret", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["scheme"] == "onlyfansapi"
    bad = runner.invoke(app, ["verify", "--body", str(body), "-H", "Signature", "-s", "x"])
    assert bad.exit_code == 2 and "Name: value" in bad.stderr


def test_explain_names_the_cause_and_never_prints_the_secret(tmp_path: Path) -> None:
    """--explain shows signed string, both signatures and the matching cause; secret masked."""
    pretty = json.dumps({"type": "tip.received", "amount": 5}, indent=2).encode()
    signed = capture("x", "svix", SECRET, body=pretty)
    sent = Capture("x", signed.received_at, "POST", "/", signed.headers,
                   b'{"type":"tip.received","amount":5}')
    file = write(tmp_path / "c.jsonl", sent.to_json())
    result = runner.invoke(app, ["verify", file, "-s", SECRET, "--explain"])
    assert result.exit_code == 1
    assert "signed" in result.stdout and "expected" in result.stdout
    assert "received" in result.stdout
    assert "MATCHES with body re-serialised as pretty JSON" in result.stdout
    assert SECRET not in result.stdout + result.stderr and "whsec_…" in result.stdout


def test_stdin_capture_through_the_installed_entry_point(tmp_path: Path) -> None:
    """`ofevents verify -` reads a capture from stdin (real subprocess)."""
    line = capture("a", "ofapi", HEX_SECRET).to_json() + "\n"
    exe = Path(sys.executable).with_name("ofevents")
    done = subprocess.run([str(exe), "verify", "-", "-s", HEX_SECRET, "--json"], input=line,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True


def test_a_line_past_the_limit_is_skipped_unheld_and_the_rest_verified() -> None:
    """64 MiB and more with no newline on stdin (the start of `< /dev/zero`), then a
    delivery: the long line is reported and skipped (exit 2: a line that is no capture), the
    delivery after it verified; the long line's bytes are read past, never held."""
    from ofevents_cli.core.capture import MAX_LINE

    line = capture("a", "ofapi", HEX_SECRET).to_json() + "\n"
    exe = Path(sys.executable).with_name("ofevents")
    done = subprocess.run([str(exe), "verify", "-", "-s", HEX_SECRET, "--json"],
                          input=b"\0" * (MAX_LINE + 5_000_000) + b"\n" + line.encode(),
                          capture_output=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"line 1: longer than {MAX_LINE} bytes (skipped)".encode() in done.stderr
    [verdict] = [json.loads(x) for x in done.stdout.splitlines()]
    assert verdict["valid"] is True and verdict["line"] == 2


def test_nothing_to_verify_is_a_usage_error() -> None:
    """No capture and no --body: exit 2 with a hint."""
    result = runner.invoke(app, ["verify", "-s", "x"])
    assert result.exit_code == 2 and "hint:" in result.stderr


def test_explain_escapes_hostile_signatures_and_names_the_secret_used(tmp_path: Path) -> None:
    """Control characters in received signatures are escaped; the label is the secret used."""
    good = capture("a", "svix", SECRET)
    hostile = [(k, "v1,\x1b]0;pwned\x07\x1b[2J") if k == "svix-signature" else (k, v)
               for k, v in good.headers]
    bad = Capture("b", good.received_at, "POST", "/", tuple(hostile), good.body)
    file = write(tmp_path / "c.jsonl", good.to_json(), bad.to_json())
    result = runner.invoke(app, ["verify", file, "-s", "ofapi-secret-long-value", "-s", SECRET,
                                 "--explain"])
    assert "\x1b" not in result.stdout and "\\x1b" in result.stdout
    assert "(secret whsec_…" in result.stdout and "…lue" not in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--provider", "bogus"], "unknown --provider"),
        (["--body", "x.json"], "not both"),
        (["-H", "Signature: x"], "--header goes with --body"),
    ],
)
def test_conflicting_or_bad_flags_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    """A bad --provider, capture files with --body, or --header alone: exit 2 with a hint."""
    file = write(tmp_path / "c.jsonl", capture("a", "ofapi", HEX_SECRET).to_json())
    result = runner.invoke(app, ["verify", file, "-s", HEX_SECRET, *args])
    assert result.exit_code == 2 and needle in result.stderr and "hint:" in result.stderr


def test_several_files_are_told_apart(tmp_path: Path) -> None:
    """With two captures, each result names its file (human: file:line; JSON: source)."""
    one = write(tmp_path / "one.jsonl", capture("a", "ofapi", HEX_SECRET).to_json())
    two = write(tmp_path / "two.jsonl", capture("b", "ofapi", HEX_SECRET).to_json())
    human = runner.invoke(app, ["verify", one, two, "-s", HEX_SECRET])
    assert f"{one}:1" in human.stdout and f"{two}:1" in human.stdout
    records = runner.invoke(app, ["verify", one, two, "-s", HEX_SECRET, "--json"]).stdout
    assert [json.loads(r)["source"] for r in records.splitlines()] == [one, two]


def test_empty_capture_warns(tmp_path: Path) -> None:
    """An empty capture is not silently 'all valid': a warning says nothing was verified."""
    file = write(tmp_path / "c.jsonl")
    result = runner.invoke(app, ["verify", file, "-s", HEX_SECRET])
    assert "holds no deliveries" in result.stderr


def test_truncated_deliveries_are_named_not_judged(tmp_path: Path) -> None:
    """A capture marked truncated (its body did not arrive whole) is reported on stderr and not
    counted as invalid; the others are verified as usual."""
    from dataclasses import replace

    cut = replace(capture("cut", "svix", SECRET), body=b"{", truncated=True)
    file = write(tmp_path / "c.jsonl", cut.to_json(), capture("ok", "svix", SECRET).to_json())
    result = runner.invoke(app, ["verify", file, "--secret", SECRET, "--json"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ok"]
    assert "line 1: delivery cut was not received whole (truncated): not verified" \
        in result.stderr
    assert "1 truncated, not verified" in result.stderr


def test_a_large_file_verified_in_workers_reads_as_one_process_does(tmp_path: Path) -> None:
    """A capture past the workers' threshold (several pieces) gives, line for line, the
    output, warnings, summary and exit code of the one-process path (stdin), with the line
    numbers of the file: invalid, unreadable, truncated and blank lines included."""
    from dataclasses import replace

    from ofevents_cli.shells.chunks import MIN_SIZE

    lines = []
    body = json.dumps({"type": "tip.received", "note": "x" * 2000}).encode()
    while sum(map(len, lines)) < MIN_SIZE + MIN_SIZE // 2:
        n = len(lines)
        if n % 701 == 300:
            lines.append("{not json")
        elif n % 997 == 500:
            lines.append(replace(capture(f"c{n}", "svix", SECRET), truncated=True).to_json())
        elif n % 613 == 7:
            lines.append("")
        else:
            signer = "whsec_" + base64.b64encode(b"another-key-of-thirty-two-bytes!").decode() \
                if n % 97 == 5 else SECRET
            lines.append(capture(f"d{n}", "svix", signer, body).to_json())
    file = write(tmp_path / "big.jsonl", *lines)
    exe = str(Path(sys.executable).with_name("ofevents"))

    def run(*args: str, stdin: bool = False) -> tuple[int, str, str]:
        source = "-" if stdin else file
        with open(file, "rb") as data:
            done = subprocess.run([exe, "verify", source, "-s", SECRET, *args], stdin=data,
                                  capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout.replace(file, "-"), done.stderr.replace(file, "-")

    for fmt in (["--json"], []):
        one = run(*fmt, stdin=True)
        assert run(*fmt, "--jobs", "2") == one
        assert run(*fmt, "--jobs", "1") == one
    code, _, err = one
    records = [json.loads(line) for line in run("--json", "--jobs", "2")[1].splitlines()]
    assert code == 2 and len(records) > 1000  # 2: some lines were unreadable
    assert [r["line"] for r in records][:3] == [1, 2, 3]
    assert all(r["line"] == int(r["id"][1:]) + 1 for r in records)
    invalid = [r["line"] for r in records if not r["valid"]]
    assert invalid and all((line - 1) % 97 == 5 for line in invalid)
    assert "- line 301: not valid JSON" in err and "- line 501: delivery c500" in err
    # a reader that goes away after a line (`| head -1`) ends it quietly, as in one process
    reader = subprocess.Popen([exe, "verify", file, "-s", SECRET, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stdout.readline().startswith(b'{"id": "d0"')
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=60)
    assert reader.returncode == 0 and b"Broken pipe" not in stderr
