"""``check`` pieces that need no server: option parsing, the runner's deadlines, report shape."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailsetup.check.dns import Nameserver, matches_suffix, parse_nameserver, parse_tags
from mailsetup.check.faults import FaultName
from mailsetup.check.probe import Fault, Outcome, ProbeContext
from mailsetup.check.report import ProbeResult, Report
from mailsetup.check.runner import GRACE_SECONDS, Probe, run_probes
from mailsetup.check.table import format_json, format_plain
from mailsetup.errors import BadInput
from tests.cli import assert_one_line_error, run


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Nameserver("127.0.0.1", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]:5353", Nameserver("::1", 5353)),
        (" 9.9.9.9 ", Nameserver("9.9.9.9", 53)),
    ],
)
def test_resolver_option_accepts_ip_and_port(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    "text", ["dns.example", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:x", "[::1", "", "1.2.3"]
)
def test_resolver_option_rejects_names_and_bad_ports(text: str) -> None:
    with pytest.raises(BadInput):
        parse_nameserver(text)


@pytest.mark.parametrize("text", ["0", "0.05", "-1", "nan", "inf", "ten", "301"])
def test_timeout_is_bounded_by_the_parser(text: str) -> None:
    """--timeout's bounds are declared on the option, so the parser refuses (exit 2, one line)
    before anything runs; commands/check.py does not check them again."""
    proc = run("check", "-e", "jane@example.ch", "--timeout", text)
    assert_one_line_error(proc, 2, "--timeout")


def test_timeout_takes_fractions() -> None:
    # A bad --resolver is refused after the options parse: the fraction got through.
    proc = run("check", "-e", "jane@example.ch", "--timeout", "2.5", "--resolver", "1.2.3")
    assert_one_line_error(proc, 2, "--resolver")


def test_mx_suffix_matches_whole_labels_only() -> None:
    assert matches_suffix("mta-gw.infomaniak.ch.", ("infomaniak.ch",))
    assert matches_suffix("INFOMANIAK.CH", ("infomaniak.ch",))
    assert not matches_suffix("evilinfomaniak.ch", ("infomaniak.ch",))
    assert not matches_suffix("infomaniak.ch.evil.example", ("infomaniak.ch",))


def test_dmarc_tags_keep_the_first_of_each() -> None:
    tags = parse_tags("v=DMARC1; p=reject; p=none; rua=mailto:a@example.ch")
    assert tags == {"v": "DMARC1", "p": "reject", "rua": "mailto:a@example.ch"}


@given(st.text(max_size=200))
def test_dmarc_tag_parser_never_raises(text: str) -> None:
    assert isinstance(parse_tags(text), dict)


def _probe(name: str, run, timeout: float = 1.0) -> Probe:  # type: ignore[no-untyped-def]
    return Probe(name, "test", "here", run, timeout)


def test_runner_runs_probes_at_once() -> None:
    def slow(ctx: ProbeContext) -> Outcome:
        time.sleep(0.4)
        return Outcome("pass", "slept")

    started = time.monotonic()
    results = run_probes([_probe(f"p{i}", slow) for i in range(8)])
    wall = time.monotonic() - started
    assert [r.status for r in results] == ["pass"] * 8
    assert wall < 1.2, wall  # eight 0.4 s probes one after the other would take 3.2 s


def test_runner_reports_a_stuck_probe_as_timeout_within_its_deadline() -> None:
    release = threading.Event()

    def stuck(ctx: ProbeContext) -> Outcome:
        ctx.evidence["seen"] = "before hanging"
        ctx.step = "waiting forever"
        release.wait(30)  # ignores its deadline, like a C call that never returns
        return Outcome("pass", "too late")

    def quick(ctx: ProbeContext) -> Outcome:
        return Outcome("pass", "fine")

    started = time.monotonic()
    stuck_result, quick_result = run_probes([_probe("stuck", stuck, 0.5), _probe("quick", quick)])
    wall = time.monotonic() - started
    release.set()
    assert stuck_result.status == "fail"
    assert stuck_result.fault == "timeout"
    assert "waiting forever" in stuck_result.detail
    assert stuck_result.evidence == {"seen": "before hanging"}
    assert quick_result.status == "pass"
    assert wall < 0.5 + GRACE_SECONDS + 0.5


def test_runner_turns_exceptions_into_named_rows() -> None:
    def refused(ctx: ProbeContext) -> Outcome:
        raise ConnectionRefusedError(111, "Connection refused")

    def faulty(ctx: ProbeContext) -> Outcome:
        raise Fault(FaultName.MISSING_SPF, "missing SPF: none")

    def buggy(ctx: ProbeContext) -> Outcome:
        raise KeyError("oops")

    a, b, c = run_probes([_probe("a", refused), _probe("b", faulty), _probe("c", buggy)])
    assert (a.fault, b.fault, c.fault) == ("refused", "missing SPF", "unexpected error")
    assert all(r.status == "fail" for r in (a, b, c))


def _report(*statuses: str) -> Report:
    probes = tuple(
        ProbeResult(f"p{i}", "dns", "example.ch", s, f"detail {i}", 5, None, {"k": [1]})  # type: ignore[arg-type]
        for i, s in enumerate(statuses)
    )
    return Report("jane@example.ch", "infomaniak", False, probes, 12)


@pytest.mark.parametrize(
    ("statuses", "verdict", "code"),
    [
        (("pass", "skip"), "pass", 0),
        (("pass", "warn", "skip"), "warn", 0),
        (("pass", "warn", "fail"), "fail", 1),
    ],
)
def test_verdict_and_exit_code(statuses: tuple[str, ...], verdict: str, code: int) -> None:
    report = _report(*statuses)
    assert report.verdict == verdict
    assert report.exit_code == code
    doc = json.loads(format_json(report))
    assert doc["verdict"] == verdict
    assert doc["exit_code"] == code


def test_json_shape_is_the_documented_one() -> None:
    doc = json.loads(format_json(_report("pass", "fail")))
    assert set(doc) == {
        "schema",
        "email",
        "provider",
        "login",
        "verdict",
        "exit_code",
        "elapsed_ms",
        "summary",
        "notices",
        "probes",
    }
    assert doc["schema"] == "mailsetup.check/1"
    assert doc["summary"] == {"pass": 1, "warn": 0, "fail": 1, "skip": 0}
    assert set(doc["probes"][0]) == {
        "name",
        "protocol",
        "target",
        "status",
        "detail",
        "fault",
        "elapsed_ms",
        "hint",
        "evidence",
    }


def test_plain_table_has_one_row_per_probe_and_a_verdict() -> None:
    text = format_plain(_report("pass", "fail"))
    lines = text.splitlines()
    assert lines[0].split() == ["STATUS", "PROBE", "TIME", "DETAIL"]
    assert lines[1].startswith("PASS") and "p0" in lines[1] and "5 ms" in lines[1]
    assert lines[2].startswith("FAIL")
    assert lines[-1].startswith("FAIL: p1 failed")
    assert "\x1b[" not in text  # no colour codes when piped


@given(st.text(max_size=60))
def test_resolver_option_either_parses_or_is_bad_input(text: str) -> None:
    try:
        ns = parse_nameserver(text)
    except BadInput:
        return
    assert 0 < ns.port < 65536
    assert parse_nameserver(str(ns)) == ns  # what we print can be given back


def test_plan_for_infomaniak_comes_from_its_profile() -> None:
    """Hosts, ports and the 465 alternative come from profiles/infomaniak.toml, not from code."""
    from mailsetup.account import make_account
    from mailsetup.check.plan import CheckOptions, plan_probes
    from mailsetup.check.tls import make_context
    from mailsetup.provider import load_provider

    provider = load_provider("infomaniak")
    probes = plan_probes(
        make_account("jane@example.ch"), provider, CheckOptions(timeout=7), make_context()
    )
    assert [(p.name, p.target) for p in probes] == [
        ("dns.mx", "example.ch"),
        ("dns.spf", "example.ch"),
        ("dns.dmarc", "_dmarc.example.ch"),
        ("dns.dkim", "example.ch"),
        ("dns.discovery", "example.ch"),
        ("imap", f"{provider.imap.host}:993"),
        ("smtp", f"{provider.smtp.host}:587"),
        ("smtp.465", f"{provider.smtp.host}:465"),
        ("caldav", provider.caldav.url),
        ("carddav", provider.carddav.url),
    ]
    assert {p.timeout for p in probes} == {7}


# --- the certificate expiry rule, once for every TLS row ----------------------------------------


def test_expiry_is_decided_once_by_the_runner_from_the_tls_evidence() -> None:
    from mailsetup.check.runner import with_expiry

    soon: dict[str, object] = {"tls": {"days_left": 3}}
    fine: dict[str, object] = {"tls": {"days_left": 60}}
    passed = Outcome("pass", "TLSv1.3")
    warned = Outcome.of(FaultName.NO_WELL_KNOWN, "no /.well-known/caldav redirect (404)")
    failed = Outcome.of(FaultName.AUTH_FAILED, "authentication failed: 401")
    assert with_expiry(passed, soon) == Outcome.of(  # type: ignore[arg-type]
        FaultName.CERT_EXPIRES_SOON, "certificate expires soon: in 3 days; TLSv1.3"
    )
    kept = with_expiry(warned, soon)  # type: ignore[arg-type]
    assert kept.fault is FaultName.NO_WELL_KNOWN and "expires soon" in kept.detail
    assert with_expiry(failed, soon) == failed  # type: ignore[arg-type]
    assert with_expiry(passed, fine) == passed  # type: ignore[arg-type]
    assert with_expiry(passed, {}) == passed


def test_a_fault_takes_its_status_from_the_catalogue() -> None:
    def lying(ctx: ProbeContext) -> Outcome:
        return Outcome("pass", "all good", FaultName.MISSING_SPF)

    (row,) = run_probes([_probe("x", lying)])
    assert (row.status, row.fault) == ("fail", "missing SPF")


def test_notices_come_first_in_every_form() -> None:
    import io

    from mailsetup.check.table import print_rich

    report = Report(
        "jane@example.ch",
        "acme",
        False,
        _report("fail").probes,
        notices=("no working resolver: [bold]nothing[/] answers",),
    )
    assert format_plain(report).startswith("NOTICE: no working resolver")
    assert json.loads(format_json(report))["notices"] == list(report.notices)
    out = io.StringIO()
    print_rich(report, out)
    first = out.getvalue().splitlines()[0]
    assert first.startswith("notice:") and "[bold]nothing[/]" in first  # shown, not interpreted
