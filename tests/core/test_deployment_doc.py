"""docs/deploy.md and the files it names under deploy/ (issues 14 and 19).

The nginx configuration the guide names (``deploy/nginx/fairshare.conf``) is parsed
(directives, quoted strings, comments), and every
``access_log`` of it must name a ``log_format`` of the block whose variables hold no
query string: no ``$request`` (the whole request line), ``$request_uri``, ``$args``,
``$query_string``, ``$arg_<name>``, nor ``$http_referer`` (a referring URL with its
query). An ``access_log`` without a format name is nginx's ``combined``, which logs
``$request``: the negative controls below show that it is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
README = ROOT / "README.md"
NGINX = ROOT / "deploy" / "nginx" / "fairshare.conf"
# nginx's predefined format, used by an access_log that names no format.
COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
FORBIDDEN = {"request", "request_uri", "args", "query_string", "http_referer"}
# A quoted string, a comment, a brace or semicolon, or a bare word.
TOKEN = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|#[^\n]*|[{};]|[^\s{};'\"#]+"
SECTIONS = [
    "Overview",
    "Processes",
    "nginx",
    "Logs",
    "Backups and retention",
    "Restore",
    "Purge schedule",
    "Metrics",
]


def nginx_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```nginx\n(.*?)^```", markdown, re.S | re.M)


def directives(config: str) -> list[list[str]]:
    """Simple directives of an nginx configuration as token lists (quotes removed)."""
    tokens = re.findall(
        r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|#[^\n]*|[{};]|[^\s{};'\"#]+", config
    )
    out: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        if token.startswith("#"):
            continue
        if token in ("{", "}", ";"):
            if token == ";" and current:
                out.append(current)
            current = []
        else:
            current.append(token[1:-1] if token[0] in "'\"" else token)
    return out


def leaky_access_logs(config: str) -> list[str]:
    """The access_log lines of ``config`` whose format can hold a query string."""
    formats = {"combined": COMBINED}
    for d in directives(config):
        if d[0] == "log_format":
            fmt_args = [a for a in d[2:] if not a.startswith("escape=")]
            formats[d[1]] = "".join(fmt_args)
    problems = []
    for d in directives(config):
        if d[0] != "access_log" or d[1] == "off":
            continue
        name = d[2] if len(d) > 2 and "=" not in d[2] else "combined"
        if name not in formats:
            problems.append(f"{' '.join(d)}: unknown format {name}")
            continue
        used = set(re.findall(r"\$\{?([a-z0-9_]+)", formats[name]))
        bad = sorted(v for v in used if v in FORBIDDEN or v.startswith("arg_"))
        if bad:
            problems.append(f"{' '.join(d)}: format {name} logs {bad}")
    return problems


@pytest.fixture(scope="module")
def config() -> str:
    assert "`deploy/nginx/fairshare.conf`" in DOC.read_text("utf-8")
    return NGINX.read_text("utf-8")


def test_the_log_format_quoted_in_the_guide_is_the_files():
    (block,) = nginx_blocks(DOC.read_text("utf-8"))
    quoted = [d for d in directives(block) if d[0] == "log_format"]
    assert quoted and all(d in directives(NGINX.read_text("utf-8")) for d in quoted)


def test_access_logs_record_paths_without_query_strings(config):
    logs = [d for d in directives(config) if d[0] == "access_log"]
    assert logs, "the nginx configuration declares no access_log"
    assert leaky_access_logs(config) == []
    formats = [d for d in directives(config) if d[0] == "log_format"]
    assert any("$uri" in "".join(d[2:]) for d in formats)


def test_the_default_combined_format_is_refused(config):
    # Negative controls: nginx's default format, and the guide's own with $request_uri.
    assert leaky_access_logs("access_log /var/log/nginx/access.log;")
    assert leaky_access_logs("access_log /var/log/nginx/access.log combined;")
    with_query = config.replace("$uri", "$request_uri")
    assert with_query != config and leaky_access_logs(with_query)
    assert leaky_access_logs(config.replace("$uri", "$uri?$args"))
    assert leaky_access_logs(config.replace("$uri", "$uri $arg_phone"))


def test_proxy_passes_the_client_address_to_gunicorn(config):
    flat = [" ".join(d) for d in directives(config)]
    assert any(d.startswith("proxy_pass http://") for d in flat)
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for" in flat
    assert "proxy_set_header X-Forwarded-Proto $scheme" in flat
    text = DOC.read_text("utf-8")
    assert "FAIRSHARE_TRUSTED_PROXY_HOPS=1" in text
    assert "FAIRSHARE_TRUSTED_PROXY_HOPS=1" in (ROOT / "deploy" / "env.example").read_text()


def test_tls_hsts_redirect_and_upload_sizes(config):
    flat = [" ".join(d) for d in directives(config)]
    assert "ssl_protocols TLSv1.2 TLSv1.3" in flat
    assert "ssl_prefer_server_ciphers off" in flat and "ssl_session_tickets off" in flat
    ciphers = next(d for d in directives(config) if d[0] == "ssl_ciphers")[1].split(":")
    assert ciphers and all(
        c.startswith("ECDHE-") and ("GCM" in c or "CHACHA" in c) for c in ciphers
    )
    hsts = [d for d in directives(config) if d[:2] == ["add_header", "Strict-Transport-Security"]]
    assert hsts and "max-age=31536000" in hsts[0][2] and hsts[0][-1] == "always"
    assert "return 301 https://$host$uri" in flat  # the redirect drops the query string
    sizes = [d[1] for d in directives(config) if d[0] == "client_max_body_size"]
    assert sizes == ["10m", "55m"]  # photos (8 MB) and the roster upload (50 MB)


def test_every_file_the_guide_names_exists():
    text = DOC.read_text("utf-8")
    named = set(re.findall(r"`(deploy/[\w./{},-]+)`", text))
    assert len(named) >= 8
    for name in named:
        head, _, tail = name.partition("{")
        variants = [head + v + tail.partition("}")[2] for v in tail.partition("}")[0].split(",")]
        for path in variants if tail else [name]:
            assert (ROOT / path).exists(), path
    units = {p.name for p in (ROOT / "deploy" / "systemd").iterdir()}
    for timer in ("expire-vouchers", "ledger-checkpoint", "ledger-flush", "purge-due", "backup"):
        assert {f"fairshare-{timer}.service", f"fairshare-{timer}.timer"} <= units
        assert f"fairshare-{timer}" in text


def test_guide_sections_retention_and_purge_are_stated():
    text = DOC.read_text("utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[: len(SECTIONS)] == SECTIONS
    flat = " ".join(text.split())
    assert "pg_dump" in text and "pg_restore" in text
    assert "gone from every backup at most 7 days after the purge" in flat
    backup = (ROOT / "deploy" / "backup.sh").read_text("utf-8")
    assert "pg_dump --format=custom" in backup and "-delete" in backup
    assert "FAIRSHARE_BACKUP_RETENTION_DAYS:-7" in backup
    assert "FAIRSHARE_BACKUP_RETENTION_DAYS=7" in (ROOT / "deploy" / "env.example").read_text()
    assert "fairshare purge_due" in text and "FAIRSHARE_PURGE_AFTER_DAYS" in text


def test_readme_links_the_guide():
    assert "(docs/deploy.md)" in README.read_text("utf-8")
