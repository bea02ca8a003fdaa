#!/usr/bin/env python3
"""Run the declarative request cases of tests/cases against oauth.fcgi.

Two modes that must agree:

  run_cases.py --cgi build/oauth.fcgi
      runs the responder once per request as a CGI program, each case on a
      fresh database seeded from tests/cases/fixture;

  run_cases.py --url http://127.0.0.1:PORT/oauth --db DIR
      sends the same requests over HTTP to a server whose responders use the
      database DIR; before each case the fixture clients are removed and
      added again with oauthctl (LMDB lets it write beside the server).
      DIR may be a postgresql:// URI, the server's PostgreSQL database.

  run_cases.py --cgi build/oauth.fcgi --backend postgresql [--pg-uri URI]
      as CGI, each case on a fresh PostgreSQL database: the runner creates
      one per case on the server whose maintenance database URI names
      (default $OAUTH_TEST_PG; with neither, a private server started by
      tests/lib_pg.sh for the run), seeded from a template database, and
      drops it after.  Without PostgreSQL it says "skipped" and runs
      nothing.

A case's `config` lines are environment the responder must run with.  In
CGI mode they are set per case; a server has one configuration, so in URL
mode only the cases whose config equals --server-config run (the others
are counted and left for a server started with their configuration;
--list-configs prints the distinct configurations).

The case format is described in tests/cases/README.  The last line printed
is exactly "N passed, M failed" (N and M count cases); the exit status is
1 when a case failed or could not run, 2 on a usage error.
"""

import argparse
import base64
import concurrent.futures
import fnmatch
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
FIXTURE = os.path.join(CASES_DIR, "fixture")

SLEEP_MAX = 5.0		# seconds one sleep step may take
SHOWN_MAX = 4096	# bytes of a body shown in a failure report
CGI_HOST = "127.0.0.1"
CGI_SCRIPT_NAME = "/oauth"
# Environment handed through to the programs under test: the sanitizer
# settings of the asan run, and nothing of the caller's OAUTH_*.
PASSED_ENV = ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
              "TMPDIR")
VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array",
              "null")
PG_SCHEMES = ("postgresql://", "postgres://")
# The tables of the PostgreSQL schema (storage/store_pg_schema.c) and
# their keys as bytes: `expect db unchanged` compares their rows, whose
# `record` columns hold the bytes the LMDB values hold.
PG_TABLES = (("oauth_clients", "convert_to(id, 'UTF8')"),
             ("oauth_grants", "id"),
             ("oauth_tokens", "hash"),
             ("oauth_keys", "convert_to(kid, 'UTF8')"))
PG_NAME_MAX = 63	# bytes of a PostgreSQL identifier


class CaseError(Exception):
    """A case that cannot run as written (syntax, unknown variable...)."""


class StepFailed(Exception):
    """A step whose expectations did not hold; carries the report."""


# ---------------------------------------------------------------- parsing

def unescape(text, where):
    """Decode \\n \\r \\t \\\\ \\xHH in a body, an expected body or a
    header value into bytes: the text as UTF-8, each \\xHH as the byte HH
    (so \\xff is one raw byte, not a UTF-8 character)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        nxt = text[i + 1:i + 2]
        if nxt in ("n", "r", "t", "\\"):
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}[nxt]
            i += 2
        elif nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}",
                                         text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            raise CaseError("%s: bad escape \\%s" % (where, nxt))
    return bytes(out)


class Step:
    def __init__(self, kind, line, arg):
        self.kind = kind	# "request", "sleep" or "oauthctl"
        self.line = line
        self.arg = arg
        self.method = None
        self.path = None
        self.query = None
        self.content_type = None
        self.body = []		# (line, kind, text), joined at run time
        self.basic = None
        self.authorization = None
        self.remote_user = None
        self.headers = []	# (name, value)
        self.content_length = None	# CGI only: CONTENT_LENGTH as given
        self.cgi_only = None	# why the step cannot go over HTTP
        self.expects = []	# (line, what, arg)
        self.captures = []	# (line, kind, var, arg)


class Case:
    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.description = ""
        self.config = {}
        self.steps = []
        self.error = None	# a CaseError met while parsing
        self.pinned_now = None	# CGI, with clock steps: OAUTH_TEST_NOW

    def config_key(self):
        return tuple(sorted(self.config.items()))

    def remote_users(self):
        # A CGI-only step never reaches a web server's user file.
        return {s.remote_user for s in self.steps
                if s.remote_user and not s.cgi_only}


REQUEST_KEYS = ("query", "content-type", "form", "json-body", "body",
                "pad-to", "basic", "authorization", "remote-user", "header",
                "content-length", "cgi-only")


def split_header(arg, where):
    name, sep, value = arg.partition(":")
    name = name.strip()
    if not sep or not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise CaseError("%s: expected NAME: VALUE" % where)
    return name, value.strip()


def parse_case(path):
    name = os.path.splitext(os.path.basename(path))[0]
    case = Case(name, path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        parse_lines(case, lines)
    except (CaseError, OSError, UnicodeDecodeError) as e:
        case.error = str(e)
    return case


def parse_lines(case, lines):
    step = None
    for number, raw in enumerate(lines, 1):
        where = "%s:%d" % (os.path.basename(case.path), number)
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().split(None, 1)
        key = parts[0]
        arg = parts[1] if len(parts) > 1 else ""
        if key == "description":
            if case.steps:
                raise CaseError("%s: description after the first step"
                                % where)
            case.description = (case.description + " " + arg).strip()
        elif key == "config":
            if case.steps:
                raise CaseError("%s: config after the first step" % where)
            k, sep, v = arg.partition("=")
            if not sep or not re.fullmatch(r"OAUTH_[A-Z_]+", k):
                raise CaseError("%s: expected config OAUTH_KEY=VALUE"
                                % where)
            if k == "OAUTH_DB":
                raise CaseError("%s: OAUTH_DB belongs to the runner"
                                % where)
            case.config[k] = v
        elif key == "request":
            fields = arg.split()
            if len(fields) != 2 or not fields[1].startswith("/"):
                raise CaseError("%s: expected request METHOD /PATH[?QUERY]"
                                % where)
            step = Step("request", number, arg)
            step.method = fields[0]
            step.path, sep, query = fields[1].partition("?")
            step.query = query if sep else None
            case.steps.append(step)
        elif key in ("sleep", "clock"):
            try:
                secs = float(arg[1:] if key == "clock" and
                             arg.startswith("+") else arg)
            except ValueError:
                raise CaseError("%s: expected %s %sSECONDS"
                                % (where, key, "+" if key == "clock" else ""))
            if not arg.startswith("+") and key == "clock":
                raise CaseError("%s: expected clock +SECONDS" % where)
            if not 0 < secs <= SLEEP_MAX or (key == "clock" and
                                              secs != int(secs)):
                raise CaseError("%s: %s is bounded to %g s%s"
                                % (where, key, SLEEP_MAX,
                                   ", whole seconds" if key == "clock"
                                   else ""))
            step = Step(key, number, secs)
            case.steps.append(step)
        elif key == "oauthctl":
            try:
                if not shlex.split(arg):
                    raise CaseError("%s: oauthctl needs a command" % where)
            except ValueError as e:
                raise CaseError("%s: %s" % (where, e))
            step = Step("oauthctl", number, arg)
            case.steps.append(step)
        elif key in REQUEST_KEYS:
            if step is None or step.kind != "request":
                raise CaseError("%s: %s outside a request step"
                                % (where, key))
            parse_request_key(step, key, arg, where, number)
        elif key == "expect":
            if step is None or step.kind in ("sleep", "clock"):
                raise CaseError("%s: expect needs a request or oauthctl "
                                "step" % where)
            what, _, rest = arg.partition(" ")
            check_expect(what, rest.strip(), where, step)
            step.expects.append((number, what, rest.strip()))
        elif key in ("capture", "capture-location"):
            if step is None or step.kind in ("sleep", "clock"):
                raise CaseError("%s: %s needs a request or oauthctl step"
                                % (where, key))
            fields = arg.split()
            if len(fields) != 2 or not re.fullmatch(
                    r"[A-Za-z_][A-Za-z0-9_]*", fields[0]):
                raise CaseError("%s: expected %s VAR FIELD" % (where, key))
            step.captures.append((number, key, fields[0], fields[1]))
        else:
            raise CaseError("%s: unknown keyword %r" % (where, key))
    for s in case.steps:
        if s.content_length is not None and not s.cgi_only:
            raise CaseError("%s:%d: content-length needs cgi-only: a web "
                            "server sets CONTENT_LENGTH itself"
                            % (os.path.basename(case.path), s.line))
    if not case.description:
        raise CaseError("%s: no description" % os.path.basename(case.path))
    if not case.steps:
        raise CaseError("%s: no step" % os.path.basename(case.path))


def parse_request_key(step, key, arg, where, number):
    if key == "query":
        step.query = arg
    elif key == "content-type":
        step.content_type = arg
    elif key in ("form", "json-body", "body"):
        step.body.append((number, key, arg))
        if key == "form" and step.content_type is None:
            step.content_type = "application/x-www-form-urlencoded"
        if key == "json-body" and step.content_type is None:
            step.content_type = "application/json"
    elif key == "pad-to":
        fields = arg.split()
        if (len(fields) != 2 or not fields[0].isdigit()
                or len(fields[1]) != 1):
            raise CaseError("%s: expected pad-to LENGTH CHAR" % where)
        step.body.append((number, key, arg))
    elif key == "basic":
        try:
            creds = shlex.split(arg)
        except ValueError as e:
            raise CaseError("%s: %s" % (where, e))
        if len(creds) != 2:
            raise CaseError("%s: expected basic ID SECRET (quote an empty "
                            "secret as '')" % where)
        step.basic = creds
    elif key == "authorization":
        step.authorization = arg
    elif key == "remote-user":
        step.remote_user = arg
    elif key == "header":
        step.headers.append(split_header(arg, where))
    elif key == "content-length":
        if not arg:
            raise CaseError("%s: expected content-length VALUE, empty or "
                            "unset" % where)
        step.content_length = arg
    elif key == "cgi-only":
        if not arg:
            raise CaseError("%s: cgi-only needs a reason" % where)
        step.cgi_only = arg


EXPECTS = {
    # what: (minimum argument count, request only)
    "status": (1, True), "status-not": (1, True),
    "header": (1, True), "header-present": (1, True),
    "header-absent": (1, True), "header-match": (1, True),
    "body": (0, False), "body-empty": (0, False), "body-lacks": (1, False),
    "error": (1, True),
    "json": (3, False), "json-present": (1, False),
    "json-absent": (1, False), "json-type": (2, False),
    "json-match": (2, False), "json-exact": (1, False),
    "json-keys": (1, False), "json-contains": (2, False),
    "json-diff": (3, False), "json-now": (2, False),
    "exit": (1, False), "db": (1, False),
}


def check_expect(what, rest, where, step):
    if what not in EXPECTS:
        raise CaseError("%s: unknown expectation %r" % (where, what))
    need, request_only = EXPECTS[what]
    if request_only and step.kind != "request":
        raise CaseError("%s: expect %s needs a request step" % (where, what))
    if what == "exit" and step.kind != "oauthctl":
        raise CaseError("%s: expect exit needs an oauthctl step" % where)
    if len(rest.split(None, need - 1 if need else 0)) < need:
        raise CaseError("%s: expect %s needs %d argument(s)"
                        % (where, what, need))
    if what == "json":
        if rest.split()[1] not in ("=", "!=", "<", "<=", ">", ">="):
            raise CaseError("%s: expect json PATH OP VALUE, OP one of "
                            "= != < <= > >=" % where)
    if what == "json-type" and rest.split()[1] not in JSON_TYPES:
        raise CaseError("%s: json-type is one of %s"
                        % (where, " ".join(JSON_TYPES)))
    if what in ("header", "header-match"):
        split_header(rest, where)
    if what == "json-diff" and not re.fullmatch(r"-?\d+", rest.split()[2]):
        raise CaseError("%s: expect json-diff A B INTEGER" % where)
    if what == "json-now" and not rest.split()[1].isdigit():
        raise CaseError("%s: expect json-now PATH SECONDS" % where)
    if what == "db" and rest != "unchanged":
        raise CaseError("%s: expect db unchanged is the only db "
                        "expectation" % where)


def load_fixture(path):
    """Return (variables, list of oauthctl argument strings)."""
    variables = {}
    commands = []
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("set "):
                fields = line.split(None, 2)
                if len(fields) != 3:
                    raise CaseError("fixture:%d: expected set NAME VALUE"
                                    % number)
                variables[fields[1]] = fields[2]
            else:
                commands.append((number, line))
    return variables, commands


# ---------------------------------------------------------------- PostgreSQL

def is_pg_uri(db):
    return db.startswith(PG_SCHEMES)


def pg_uri_with_db(uri, name):
    """uri naming the database name instead: the path replaced, a dbname
    parameter of the query left out (it would win over the path)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise ValueError("not a URI: %s" % uri)
    cut = len(rest)
    for c in "/?":
        i = rest.find(c)
        if 0 <= i < cut:
            cut = i
    authority, tail = rest[:cut], rest[cut:]
    _, _, query = tail.partition("?")
    params = [p for p in query.split("&")
              if p and not p.startswith("dbname=")]
    return "%s://%s/%s%s" % (scheme, authority, urllib.parse.quote(name),
                             "?" + "&".join(params) if params else "")


def find_psql():
    """psql from $PG_BINDIR (tests/lib_pg.sh), PATH, or the newest
    /usr/lib/postgresql/*/bin; None when there is none."""
    bindir = os.environ.get("PG_BINDIR")
    if bindir and os.access(os.path.join(bindir, "psql"), os.X_OK):
        return os.path.join(bindir, "psql")
    found = shutil.which("psql")
    if found:
        return found
    root = "/usr/lib/postgresql"
    try:
        versions = sorted((v for v in os.listdir(root) if v.isdigit()),
                          key=int)
    except OSError:
        versions = []
    for v in reversed(versions):
        path = os.path.join(root, v, "bin", "psql")
        if os.access(path, os.X_OK):
            return path
    return None


class PgError(Exception):
    """psql failed: the statement, and what the server said."""


class Pg:
    """The databases of a run on one PostgreSQL server, through psql:
    created from the maintenance database's URI, dropped by name."""

    def __init__(self, maintenance_uri, psql, timeout):
        self.uri = maintenance_uri
        self.psql = psql
        self.timeout = timeout
        # Unique to the run: two runs may share a server.
        self.prefix = "rc_%d_%s" % (os.getpid(), secrets.token_hex(3))
        self.lock = threading.Lock()
        self.count = 0

    def run(self, uri, sql):
        """Runs sql on the database of uri; its unaligned rows."""
        env = {k: os.environ[k] for k in ("PATH", "TMPDIR")
               if k in os.environ}
        cmd = [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-d", uri, "-c", sql]
        try:
            p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise PgError("psql: %s" % e)
        if p.returncode != 0:
            raise PgError("psql -c %r: exit %d: %s"
                          % (sql[:200], p.returncode,
                             p.stderr.decode("utf-8", "replace").strip()))
        return p.stdout.decode("utf-8", "replace")

    def new_name(self, label):
        with self.lock:
            self.count += 1
            n = self.count
        label = re.sub(r"[^a-z0-9]+", "_", label.lower())
        return ("%s_%d_%s" % (self.prefix, n, label))[:PG_NAME_MAX]

    def create(self, name, template=None):
        """Creates database name (a copy of template), returns its URI."""
        self.run(self.uri, 'CREATE DATABASE "%s"%s'
                 % (name, ' TEMPLATE "%s"' % template if template else ""))
        return pg_uri_with_db(self.uri, name)

    def drop(self, name):
        # FORCE ends a connection a responder might have left behind.
        self.run(self.uri, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                 % name)

    def snapshot(self, uri):
        """Every row of the schema's tables in one statement (so one
        snapshot): {table: {key: row}}, keys and rows in hex."""
        sql = " UNION ALL ".join(
            "SELECT '%s', encode(%s, 'hex'), "
            "encode(convert_to(t::text, 'UTF8'), 'hex') FROM %s t"
            % (table, key, table) for table, key in PG_TABLES)
        rows = {table: {} for table, _ in PG_TABLES}
        for line in self.run(uri, sql + " ORDER BY 1, 2").split("\n"):
            if line:
                table, key, row = line.split("|")
                rows[table][key] = row
        return rows


class PgServer:
    """A private server for the run, started and stopped by
    tests/lib_pg.sh (a unix socket in a temp dir, no TCP)."""

    LIB = os.path.join(HERE, "lib_pg.sh")

    def __init__(self):
        self.dir = None
        self.bindir = None
        self.uri = None

    def start(self, timeout):
        """The maintenance URI, or None with the reason printed."""
        self.dir = tempfile.mkdtemp(prefix="run_cases-pg-")
        try:
            p = subprocess.run(
                ["sh", "-c", '. "$1" && pg_start "$2" >&2 && '
                 'printf "%s\\n%s\\n" "$PG_URI" "$PG_BINDIR"',
                 "sh", self.LIB, self.dir],
                stdin=subprocess.DEVNULL, capture_output=True,
                timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return self.fail(str(e))
        out = p.stdout.decode("utf-8", "replace").split("\n")
        if p.returncode != 0 or len(out) < 2 or not out[0]:
            return self.fail(p.stderr.decode("utf-8", "replace").strip())
        self.uri, self.bindir = out[0], out[1]
        return self.uri

    def fail(self, why):
        print("PostgreSQL could not start: %s" % (why or "(no reason)"))
        self.stop()
        return None

    def stop(self):
        if not self.dir:
            return
        try:
            subprocess.run(
                ["sh", "-c", '. "$1" && PG_DIR=$2/pg PG_BINDIR=$3 && '
                 'pg_stop', "sh", self.LIB, self.dir,
                 self.bindir or os.path.dirname(find_psql() or "")],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=90)
        except (OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


# ---------------------------------------------------------------- running

def expand(text, variables, where):
    def sub(m):
        if m.group(1) not in variables:
            raise CaseError("%s: unknown variable ${%s}"
                            % (where, m.group(1)))
        return variables[m.group(1)]
    return VAR_RE.sub(sub, text)


def json_path(doc, path):
    """Return (found, value) for a dotted path such as a.b.0."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif (isinstance(cur, list) and part.isdigit()
              and int(part) < len(cur)):
            cur = cur[int(part)]
        else:
            return False, None
    return True, cur


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def strict_equal(a, b):
    """JSON equality where true is not 1 and "1" is not 1."""
    if json_type(a) != json_type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k])
                                            for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y)
                                        for x, y in zip(a, b))
    return a == b


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers	# list of (name, value)
        self.body = body	# bytes

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None


class Runner:
    def __init__(self, opts):
        self.opts = opts
        self.fixture_vars, self.fixture_cmds = load_fixture(opts.fixture)
        self.template = None	# CGI mode: the seeded database to copy
        self.added_ids = set()	# URL mode: clients the last case added
        self.cgi_only_steps = 0	# URL mode: steps left out
        self.mdb_dump = shutil.which("mdb_dump")
        self.pg = None		# Pg: PostgreSQL databases and snapshots

    # -- environment shared by the responder and oauthctl

    def base_env(self, config, db):
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env["OAUTH_DB"] = db
        env.update(config)
        return env

    @staticmethod
    def step_config(case):
        """The environment of case's processes: its config, and in CGI
        mode for a case with clock steps, the pinned clock."""
        if case.pinned_now is None:
            return case.config
        return dict(case.config, OAUTH_TEST_NOW=str(case.pinned_now))

    def oauthctl(self, args, db, config):
        cmd = [self.opts.oauthctl, "--db", db] + args
        try:
            p = subprocess.run(cmd, env=self.base_env(config, db),
                               stdin=subprocess.DEVNULL,
                               capture_output=True,
                               timeout=self.opts.timeout)
        except subprocess.TimeoutExpired:
            return None, b"", b"timed out after %ds" % self.opts.timeout
        except OSError as e:
            return None, b"", str(e).encode()
        return p.returncode, p.stdout, p.stderr

    def seed(self, db, config):
        """Run the fixture's oauthctl commands on db; raise on failure."""
        for number, line in self.fixture_cmds:
            args = shlex.split(expand(line, self.fixture_vars,
                                      "fixture:%d" % number))
            rc, out, err = self.oauthctl(args, db, config)
            if rc != 0:
                raise CaseError("fixture:%d: oauthctl %s: exit %s: %s"
                                % (number, " ".join(args), rc,
                                   err.decode("utf-8", "replace").strip()))

    def fixture_client_ids(self):
        ids = []
        for number, line in self.fixture_cmds:
            args = shlex.split(expand(line, self.fixture_vars,
                                      "fixture:%d" % number))
            if args[:2] == ["client", "add"] and len(args) > 2:
                ids.append(args[2])
        return ids

    # -- one request

    def send_cgi(self, req, db, config):
        env = self.base_env(config, db)
        env.update({
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "run_cases",
            "REQUEST_METHOD": req["method"],
            "PATH_INFO": req["path"],
            "QUERY_STRING": req["query"] or "",
            "SCRIPT_NAME": CGI_SCRIPT_NAME,
            "REQUEST_URI": CGI_SCRIPT_NAME + req["path"]
            + ("?" + req["query"] if req["query"] else ""),
            "HTTP_HOST": CGI_HOST,
            "SERVER_NAME": CGI_HOST,
            "SERVER_PORT": "80",
            "REMOTE_ADDR": "127.0.0.1",
        })
        if req["content_type"] is not None:
            env["CONTENT_TYPE"] = req["content_type"]
        if req["content_length"] == "empty":
            env["CONTENT_LENGTH"] = ""
        elif req["content_length"] == "unset":
            pass
        elif req["content_length"] is not None:
            env["CONTENT_LENGTH"] = unescape(req["content_length"],
                                             "content-length")
        elif req["body"] or req["method"] in ("POST", "PUT", "PATCH"):
            env["CONTENT_LENGTH"] = str(len(req["body"]))
        if req["remote_user"]:
            env["REMOTE_USER"] = req["remote_user"]
            env["AUTH_TYPE"] = "Basic"
        for name, value in req["headers"]:
            env["HTTP_" + name.upper().replace("-", "_")] = value
        if any(b"\0" in (v if isinstance(v, bytes) else v.encode())
               for v in env.values()):
            raise CaseError("a CGI variable cannot hold a NUL byte")
        try:
            p = subprocess.run([self.opts.cgi], env=env, input=req["body"],
                               capture_output=True,
                               timeout=self.opts.timeout)
        except subprocess.TimeoutExpired:
            raise StepFailed("the responder did not answer within %ds"
                             % self.opts.timeout)
        except OSError as e:
            raise StepFailed("cannot run %s: %s" % (self.opts.cgi, e))
        stderr = p.stderr.decode("utf-8", "replace").strip()
        if p.returncode != 0:
            raise StepFailed("the responder exited with status %d\n%s"
                             % (p.returncode, stderr))
        return parse_cgi(p.stdout)

    def send_http(self, req):
        url = urllib.parse.urlsplit(self.opts.url)
        target = url.path.rstrip("/") + req["path"]
        if req["query"] is not None:
            target += "?" + req["query"]
        headers = dict(req["headers"])
        if req["content_type"] is not None:
            headers["Content-Type"] = req["content_type"]
        if req["remote_user"]:
            # The test server authenticates /authorize with Basic and a
            # password equal to the user name (see --list-users).
            if "Authorization" in headers:
                raise CaseError("remote-user and an Authorization header "
                                "cannot both go over HTTP")
            user = req["remote_user"]
            headers["Authorization"] = (b"Basic "
                                        + base64.b64encode(user + b":"
                                                           + user))
        conn = http.client.HTTPConnection(url.hostname, url.port or 80,
                                          timeout=self.opts.timeout)
        try:
            conn.request(req["method"], target,
                         body=req["body"] if req["body"] else None,
                         headers=headers)
            r = conn.getresponse()
            body = r.read()
            return Response(r.status, r.getheaders(), body)
        except (OSError, http.client.HTTPException) as e:
            raise StepFailed("HTTP %s %s: %s" % (req["method"], target, e))
        finally:
            conn.close()

    def build_request(self, step, variables, fname):
        where = "%s:%d" % (fname, step.line)
        body = []
        for number, kind, text in step.body:
            w = "%s:%d" % (fname, number)
            if kind == "pad-to":
                length, char = text.split()
                have = sum(len(b) for b in body)
                body.append(char.encode() * max(0, int(length) - have))
            else:
                text = expand(text, variables, w)
                body.append(unescape(text, w) if kind == "body"
                            else text.encode("utf-8"))
        # Header values are bytes: the escapes of `body` let a case send
        # a tab, trailing blanks or bytes that are not UTF-8.
        headers = [(n, unescape(expand(v, variables, where), where))
                   for n, v in step.headers]
        if step.basic is not None:
            user, secret = (expand(x, variables, where) for x in step.basic)
            # RFC 6749 §2.3.1: both are form-urlencoded before base64.
            pair = (urllib.parse.quote_plus(user) + ":"
                    + urllib.parse.quote_plus(secret))
            headers.append(("Authorization", b"Basic "
                            + base64.b64encode(pair.encode())))
        if step.authorization is not None:
            headers.append(("Authorization",
                            unescape(expand(step.authorization, variables,
                                            where), where)))
        if sum(1 for n, _ in headers if n.lower() == "authorization") > 1:
            raise CaseError("%s: two Authorization headers" % where)
        return {
            "method": step.method,
            "path": expand(step.path, variables, where),
            "query": (expand(step.query, variables, where)
                      if step.query is not None else None),
            "content_type": (expand(step.content_type, variables, where)
                             if step.content_type is not None else None),
            "body": b"".join(body),
            "content_length": step.content_length,
            "remote_user": (unescape(expand(step.remote_user, variables,
                                            where), where)
                            if step.remote_user else None),
            "headers": [(("Authorization" if n.lower() == "authorization"
                          else n), v) for n, v in headers],
        }

    # -- one case

    def run_case(self, case):
        """Return (ok, report) for one case."""
        log = []
        if case.error:
            return False, "cannot run: %s" % case.error, log
        tmp = None
        pg_name = None
        try:
            if self.opts.cgi and self.opts.backend == "postgresql":
                # A copy of the seeded template, as the LMDB copy below.
                pg_name = self.pg.new_name(case.name)
                try:
                    db = self.pg.create(pg_name, self.template)
                except PgError as e:
                    pg_name = None
                    raise CaseError("cannot create its database: %s" % e)
            elif self.opts.cgi:
                tmp = tempfile.mkdtemp(prefix="case-%s-" % case.name,
                                       dir=self.opts.workdir)
                db = os.path.join(tmp, "db")
                shutil.copytree(self.template, db,
                                ignore=shutil.ignore_patterns("lock.mdb"))
            else:
                db = self.opts.db
                self.reseed(case)
            # Cases run in threads: the pinned clock is the case's own.
            if self.opts.cgi and any(s.kind == "clock" for s in case.steps):
                case.pinned_now = int(time.time())
            variables = dict(self.fixture_vars)
            variables["ISSUER"] = self.issuer()
            for step in case.steps:
                self.run_step(case, step, db, variables, log)
            return True, "", log
        except CaseError as e:
            return False, "cannot run: %s" % e, log
        except StepFailed as e:
            return False, str(e), log
        except Exception:	# a runner bug must not hide the other cases
            return False, "runner error:\n" + traceback.format_exc(), log
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            if pg_name:
                self.drop_case_db(pg_name, log)

    def drop_case_db(self, name, log):
        try:
            self.pg.drop(name)
        except PgError as e:
            # Not the case's failure; said in its log and on stderr.
            log.append("cannot drop database %s: %s" % (name, e))
            print("warning: cannot drop database %s: %s" % (name, e),
                  file=sys.stderr)

    def issuer(self):
        if self.opts.cgi:
            return "http://%s%s" % (CGI_HOST, CGI_SCRIPT_NAME)
        return self.opts.url.rstrip("/")

    def reseed(self, case):
        ids = set(self.fixture_client_ids())
        for step in case.steps:
            if step.kind == "oauthctl":
                try:
                    args = shlex.split(step.arg)
                except ValueError:
                    continue
                if args[:2] == ["client", "add"] and len(args) > 2:
                    ids.add(args[2])
        for cid in sorted(ids | self.added_ids):
            self.oauthctl(["client", "remove", cid], self.opts.db,
                          case.config)
        self.added_ids = ids
        self.seed(self.opts.db, case.config)

    def run_step(self, case, step, db, variables, log):
        where = "%s:%d" % (os.path.basename(case.path), step.line)
        if step.kind == "sleep":
            log.append("%s: sleep %g" % (where, step.arg))
            time.sleep(step.arg)
            return
        if step.kind == "clock":
            # A running web server's responders cannot have their clock
            # moved: over HTTP the time really passes.
            if case.pinned_now is not None:
                case.pinned_now += int(step.arg)
                log.append("%s: clock +%d (pinned)" % (where, step.arg))
            else:
                log.append("%s: clock +%g (slept)" % (where, step.arg))
                time.sleep(step.arg)
            return
        if step.kind == "request" and step.cgi_only and not self.opts.cgi:
            log.append("%s: CGI only (%s): not sent" % (where, step.cgi_only))
            self.cgi_only_steps += 1
            return
        unchanged = any(w == "db" for _, w, _ in step.expects)
        before = self.db_snapshot(db) if unchanged else None
        if step.kind == "oauthctl":
            args = shlex.split(expand(step.arg, variables, where))
            rc, out, err = self.oauthctl(args, db, self.step_config(case))
            shown = ("%s: oauthctl %s\n-> exit %s\n%s%s"
                     % (where, " ".join(shlex.quote(a) for a in args), rc,
                        indent("stdout", out), indent("stderr", err)))
            log.append(shown)
            result = Response(rc, [], out)
        else:
            req = self.build_request(step, variables,
                                     os.path.basename(case.path))
            if self.opts.cgi:
                result = self.send_cgi(req, db, self.step_config(case))
            else:
                result = self.send_http(req)
            shown = "%s\n%s" % (show_request(where, req),
                                show_response(result))
            log.append(shown)
        failures = []
        for number, what, arg in step.expects:
            if what == "db":
                msg = self.db_compare(before, self.db_snapshot(db))
            else:
                msg = self.check(step, what, expand(arg, variables, where),
                                 result, "%s:%d"
                                 % (os.path.basename(case.path), number))
            if msg:
                failures.append("%s:%d: expect %s: %s"
                                % (os.path.basename(case.path), number,
                                   (what + " " + arg).strip(), msg))
        if step.kind == "oauthctl" and not any(
                w == "exit" for _, w, _ in step.expects) and result.status:
            failures.append("%s: oauthctl exited %s" % (where, result.status))
        for number, kind, var, field in step.captures:
            value = capture(kind, field, result)
            if value is None:
                failures.append("%s:%d: %s %s %s: no such field"
                                % (os.path.basename(case.path), number,
                                   kind, var, field))
            else:
                variables[var] = value
        if failures:
            raise StepFailed("\n".join(failures) + "\n" + shown)

    def db_snapshot(self, db):
        """The database's content, for `expect db unchanged`: every named
        database as mdb_dump -a prints it (keys and values, a consistent
        read snapshot even while a server has the environment open); the
        bytes of data.mdb when mdb_dump is not installed, which also
        catches a commit that changed nothing.  On PostgreSQL, the rows of
        the schema's tables (Pg.snapshot)."""
        if is_pg_uri(db):
            if self.pg is None:
                raise CaseError("expect db unchanged on PostgreSQL needs "
                                "psql (postgresql-client)")
            try:
                return ("rows", self.pg.snapshot(db))
            except PgError as e:
                raise StepFailed("cannot read the database: %s" % e)
        if not os.path.isdir(db):
            raise CaseError("expect db unchanged needs an LMDB directory, "
                            "not %s" % db)
        if not self.mdb_dump:
            try:
                with open(os.path.join(db, "data.mdb"), "rb") as f:
                    return ("data.mdb", f.read())
            except OSError as e:
                raise StepFailed("cannot read the database: %s" % e)
        try:
            p = subprocess.run([self.mdb_dump, "-a", db],
                               stdin=subprocess.DEVNULL,
                               capture_output=True,
                               timeout=self.opts.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StepFailed("mdb_dump -a %s: %s" % (db, e))
        if p.returncode != 0:
            raise StepFailed("mdb_dump -a %s: exit %d: %s"
                             % (db, p.returncode,
                                p.stderr.decode("utf-8", "replace").strip()))
        return ("mdb_dump", p.stdout)

    @staticmethod
    def db_compare(before, after):
        """None when the snapshots agree, else which records of which
        named database were added, removed or changed."""
        if before == after:
            return None
        if before[0] == "rows":
            old, new = before[1], after[1]
        elif before[0] != "mdb_dump":
            return "data.mdb changed"
        else:
            old = mdb_dump_records(before[1])
            new = mdb_dump_records(after[1])
        lines = []
        for name in sorted(set(old) | set(new)):
            a, b = old.get(name, {}), new.get(name, {})
            added = sum(1 for k in b if k not in a)
            removed = sum(1 for k in a if k not in b)
            changed = sum(1 for k in a if k in b and a[k] != b[k])
            if added or removed or changed:
                lines.append("  %s: %d record(s) added, %d removed, %d "
                             "changed" % (name, added, removed, changed))
        return "the database changed:\n" + "\n".join(
            lines or ["  (the dumps differ outside the records)"])

    def check(self, step, what, arg, r, where):
        """Return None when the expectation holds, else why not."""
        if what in ("status", "status-not", "exit"):
            want = [int(x) for x in arg.split()]
            got = r.status
            if what == "status-not":
                return "got %s" % got if got in want else None
            return None if got in want else "got %s" % got
        if what == "header":
            name, value = split_header(arg, where)
            got = r.header(name)
            return None if got == value else "got %r" % got
        if what == "header-present":
            return None if r.header(arg) is not None else "absent"
        if what == "header-absent":
            got = r.header(arg)
            return None if got is None else "present: %r" % got
        if what == "header-match":
            name, value = split_header(arg, where)
            got = r.header(name)
            if got is None:
                return "absent"
            return None if re.search(value, got) else "got %r" % got
        if what == "body":
            want = unescape(arg, where)
            return None if r.body == want else "got %r" % r.body[:200]
        if what == "body-empty":
            return None if r.body == b"" else "got %r" % r.body[:200]
        if what == "body-lacks":
            return None if arg.encode("utf-8") not in r.body else \
                "the body contains it"
        try:
            doc = json.loads(r.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return "the body is not JSON"
        if what == "error":
            msgs = []
            if step.kind == "request":
                ct = r.header("Content-Type")
                if ct != "application/json":
                    msgs.append("Content-Type %r" % ct)
                if r.header("Cache-Control") != "no-store":
                    msgs.append("Cache-Control %r"
                                % r.header("Cache-Control"))
            if not isinstance(doc, dict) or doc.get("error") != arg:
                msgs.append("error %r" % (doc.get("error")
                                          if isinstance(doc, dict) else doc))
            elif not isinstance(doc.get("error_description"), str):
                msgs.append("no error_description string")
            return ", ".join(msgs) or None
        if what == "json-exact":
            want = parse_literal(arg, where)
            return None if strict_equal(doc, want) else \
                "got %s" % json.dumps(doc)
        if what == "json-keys":
            if not isinstance(doc, dict):
                return "not an object"
            want = set(arg.split())
            got = set(doc)
            return None if got == want else "got keys %s" % sorted(got)
        fields = arg.split(None, 2)
        found, value = json_path(doc, fields[0])
        if what == "json-absent":
            return None if not found else "present: %s" % json.dumps(value)
        if not found:
            return "no field %s in %s" % (fields[0], json.dumps(doc)[:300])
        if what == "json-present":
            return None
        if what == "json-type":
            t = json_type(value)
            if fields[1] == "integer":
                ok = t == "number" and float(value).is_integer()
            else:
                ok = t == fields[1]
            return None if ok else "is %s %s" % (t, json.dumps(value))
        if what == "json-match":
            rest = arg.split(None, 1)[1]
            if not isinstance(value, str):
                return "not a string: %s" % json.dumps(value)
            return None if re.fullmatch(rest, value) else "got %r" % value
        if what == "json-contains":
            want = parse_literal(arg.split(None, 1)[1], where)
            if not isinstance(value, list):
                return "not an array: %s" % json.dumps(value)
            return None if any(strict_equal(v, want) for v in value) else \
                "got %s" % json.dumps(value)
        if what == "json-diff":
            found2, other = json_path(doc, fields[1])
            if not found2:
                return "no field %s" % fields[1]
            if not (is_number(value) and is_number(other)):
                return "not numbers"
            diff = value - other
            return None if diff == int(fields[2]) else \
                "%s - %s is %s" % (fields[0], fields[1], diff)
        if what == "json-now":
            if not is_number(value):
                return "not a number: %s" % json.dumps(value)
            off = value - time.time()
            return None if abs(off) <= int(fields[1]) else \
                "%+d s from now" % off
        if what == "json":
            op, want = fields[1], parse_literal(fields[2], where)
            if op in ("=", "!="):
                same = strict_equal(value, want)
                return None if same == (op == "=") else \
                    "got %s" % json.dumps(value)
            if not (is_number(value) and is_number(want)):
                return "not numbers: %s" % json.dumps(value)
            ok = {"<": value < want, "<=": value <= want,
                  ">": value > want, ">=": value >= want}[op]
            return None if ok else "got %s" % json.dumps(value)
        raise CaseError("%s: unhandled expectation %s" % (where, what))


def parse_literal(text, where):
    try:
        return json.loads(text)
    except ValueError:
        raise CaseError("%s: %r is not a JSON value (quote strings)"
                        % (where, text))


def capture(kind, field, r):
    if kind == "capture-location":
        loc = r.header("Location") if r.headers else None
        if loc is None:
            return None
        split = urllib.parse.urlsplit(loc)
        for source in (split.query, split.fragment):
            values = urllib.parse.parse_qs(source).get(field)
            if values:
                return values[0]
        return None
    try:
        doc = json.loads(r.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    found, value = json_path(doc, field)
    if not found or isinstance(value, (dict, list)) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mdb_dump_records(dump):
    """{database: {key: value}} from the output of mdb_dump -a, whose
    records are a key line and a value line, each indented by a blank."""
    dbs = {}
    name, data, pending = None, None, None
    for line in dump.decode("latin-1").split("\n"):
        if line.startswith("database="):
            name = line[len("database="):]
        elif line == "HEADER=END":
            data = dbs.setdefault(name, {})
        elif line == "DATA=END":
            data = None
        elif data is not None and line.startswith(" "):
            if pending is None:
                pending = line
            else:
                data[pending] = line
                pending = None
    return dbs


def parse_cgi(out):
    """Split a CGI response (RFC 3875 §6) into status, headers and body."""
    cut = len(out)
    sep = b""
    for s in (b"\r\n\r\n", b"\n\n"):
        i = out.find(s)
        if i >= 0 and i < cut:
            cut, sep = i, s
    if not sep:
        raise StepFailed("CGI output without an end of headers: %r"
                         % out[:300])
    head, body = out[:cut], out[cut + len(sep):]
    headers = []
    status = None
    for line in head.decode("latin-1").replace("\r\n", "\n").split("\n"):
        name, colon, value = line.partition(":")
        if not colon or not re.fullmatch(r"[A-Za-z0-9-]+", name):
            raise StepFailed("malformed CGI header line %r" % line)
        value = value.strip()
        if name.lower() == "status":
            m = re.fullmatch(r"(\d{3})( .*)?", value)
            if not m:
                raise StepFailed("malformed Status %r" % value)
            status = int(m.group(1))
        else:
            headers.append((name, value))
    if status is None:
        status = 302 if any(n.lower() == "location"
                            for n, _ in headers) else 200
    if body and not any(n.lower() == "content-type" for n, _ in headers):
        raise StepFailed("CGI response with a body but no Content-Type")
    return Response(status, headers, body)


def indent(label, data):
    if not data:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) \
        else data
    if len(text) > SHOWN_MAX:
        text = text[:SHOWN_MAX] + "... (%d bytes)" % len(data)
    return "%s:\n%s\n" % (label, "\n".join("  " + l
                                            for l in text.split("\n")))


def show_request(where, req):
    lines = ["%s: > %s %s%s" % (where, req["method"], req["path"],
                                "?" + req["query"] if req["query"] is not None
                                else "")]
    if req["content_type"] is not None:
        lines.append("> Content-Type: %s" % req["content_type"])
    if req["content_length"] is not None:
        lines.append("> (CONTENT_LENGTH %s)" % req["content_length"])
    for n, v in req["headers"]:
        lines.append("> %s: %r" % (n, v.decode("latin-1"))
                     if re.search(rb"[^\x20-\x7e]", v)
                     else "> %s: %s" % (n, v.decode("ascii")))
    if req["remote_user"]:
        lines.append("> (REMOTE_USER %s)"
                     % req["remote_user"].decode("utf-8", "replace"))
    body = req["body"]
    if body:
        shown = body[:SHOWN_MAX].decode("utf-8", "replace")
        lines.append("> (%d bytes) %s%s" % (len(body), shown,
                                           "..." if len(body) > SHOWN_MAX
                                           else ""))
    return "\n".join(lines)


def show_response(r):
    lines = ["< %s" % r.status]
    for n, v in r.headers:
        lines.append("< %s: %s" % (n, v))
    body = r.body[:SHOWN_MAX].decode("utf-8", "replace")
    lines.append("< %s%s" % (body, "..." if len(r.body) > SHOWN_MAX else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def select(cases, patterns):
    if not patterns:
        return cases
    return [c for c in cases
            if any(p == c.name or p in c.name or fnmatch.fnmatch(c.name, p)
                   for p in patterns)]


def main(argv):
    ap = argparse.ArgumentParser(
        description="Run tests/cases/*.case against oauth.fcgi as CGI or "
                    "over HTTP.")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--cgi", metavar="BINARY",
                      help="run BINARY as a CGI program per request")
    mode.add_argument("--url", metavar="BASE",
                      help="send requests to BASE (e.g. "
                           "http://127.0.0.1:8080/oauth)")
    mode.add_argument("--list-configs", action="store_true",
                      help="print each distinct case configuration, one a "
                           "line ('-' for the default), and exit")
    mode.add_argument("--list-users", action="store_true",
                      help="print the REMOTE_USER names the cases use")
    ap.add_argument("--db", metavar="DIR",
                    help="URL mode: the database the server uses (an LMDB "
                         "directory or a postgresql:// URI)")
    ap.add_argument("--backend", choices=("lmdb", "postgresql"),
                    default=None,
                    help="CGI mode: where each case's fresh database is "
                         "(default lmdb); URL mode: what --db must be")
    ap.add_argument("--pg-uri", metavar="URI",
                    default=os.environ.get("OAUTH_TEST_PG") or None,
                    help="CGI mode on postgresql: the URI of a maintenance "
                         "database of a server where the runner may create "
                         "and drop databases (default $OAUTH_TEST_PG; "
                         "without, a private server for the run)")
    ap.add_argument("--server-config", metavar="KEY=VALUE",
                    action="append", default=[],
                    help="URL mode: configuration the server runs with")
    ap.add_argument("--oauthctl", metavar="PATH",
                    help="oauthctl to seed with (default $OAUTHCTL, then "
                         "oauthctl beside the CGI binary, then "
                         "build/oauthctl)")
    ap.add_argument("-k", dest="patterns", action="append", default=[],
                    metavar="NAME", help="run the cases whose name "
                    "contains or matches NAME (repeatable)")
    ap.add_argument("-j", dest="jobs", type=int,
                    default=min(8, os.cpu_count() or 1),
                    help="CGI mode: cases run in parallel")
    ap.add_argument("--cases", default=CASES_DIR, metavar="DIR")
    ap.add_argument("--fixture", default=None, metavar="FILE")
    ap.add_argument("--log-dir", metavar="DIR",
                    help="where failing cases leave their transcript "
                         "(default build/test-logs/cases-cgi or -url)")
    ap.add_argument("--timeout", type=int, default=30,
                    help="seconds allowed to each subprocess and HTTP "
                         "request")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="print every step's transcript")
    opts = ap.parse_args(argv)
    opts.fixture = opts.fixture or os.path.join(opts.cases, "fixture")

    files = sorted(f for f in os.listdir(opts.cases) if f.endswith(".case"))
    cases = [parse_case(os.path.join(opts.cases, f)) for f in files]

    if opts.list_configs:
        keys = sorted({c.config_key() for c in select(cases, opts.patterns)})
        for key in keys:
            print(" ".join("%s=%s" % kv for kv in key) or "-")
        return 0
    if opts.list_users:
        users = set()
        for c in select(cases, opts.patterns):
            users |= c.remote_users()
        for u in sorted(users):
            print(u)
        return 0
    if not opts.cgi and not opts.url:
        ap.error("one of --cgi BINARY or --url BASE is needed")
    if opts.url and not opts.db:
        ap.error("--url needs --db DIR, the database the server uses")
    if opts.url:
        kind = "postgresql" if is_pg_uri(opts.db) else "lmdb"
        if opts.backend and opts.backend != kind:
            ap.error("--backend %s, but --db names %s" % (opts.backend,
                                                         kind))
        opts.backend = kind
    opts.backend = opts.backend or "lmdb"
    if opts.pg_uri and not is_pg_uri(opts.pg_uri):
        ap.error("--pg-uri wants a postgresql:// or postgres:// URI")
    if opts.cgi and not os.access(opts.cgi, os.X_OK):
        ap.error("%s is not an executable" % opts.cgi)
    if not opts.oauthctl:
        opts.oauthctl = os.environ.get("OAUTHCTL") or (
            os.path.join(os.path.dirname(opts.cgi), "oauthctl")
            if opts.cgi else "build/oauthctl")
    if not os.access(opts.oauthctl, os.X_OK):
        ap.error("%s is not an executable (give --oauthctl)"
                 % opts.oauthctl)
    opts.cgi = os.path.abspath(opts.cgi) if opts.cgi else None
    opts.oauthctl = os.path.abspath(opts.oauthctl)
    log_dir = opts.log_dir or os.path.join(
        "build", "test-logs", "cases-cgi" if opts.cgi else "cases-url")
    os.makedirs(log_dir, exist_ok=True)
    for f in os.listdir(log_dir):
        if f.endswith(".log"):
            os.unlink(os.path.join(log_dir, f))

    cases = select(cases, opts.patterns)
    other_config = 0
    if opts.url:
        server = {}
        for kv in opts.server_config:
            k, sep, v = kv.partition("=")
            if not sep:
                ap.error("--server-config wants KEY=VALUE")
            server[k] = v
        key = tuple(sorted(server.items()))
        other_config = sum(1 for c in cases if c.config_key() != key)
        cases = [c for c in cases if c.config_key() == key]

    try:
        runner = Runner(opts)
    except (CaseError, OSError, ValueError) as e:
        print("cannot read the fixture: %s" % e)
        print("0 passed, %d failed" % len(cases))
        return 1
    server = None
    if opts.backend == "postgresql":
        psql = find_psql()
        if psql is None:
            print("skipped: psql not found (apt-get install "
                  "postgresql-client), no PostgreSQL run")
            print("0 passed, 0 failed")
            return 0
        if opts.cgi and not opts.pg_uri:
            server = PgServer()
            opts.pg_uri = server.start(opts.timeout * 4)
            if not opts.pg_uri:
                print("skipped: no PostgreSQL server for the run")
                print("0 passed, 0 failed")
                return 0
        runner.pg = Pg(opts.pg_uri or opts.db, psql, opts.timeout)
    work = tempfile.mkdtemp(prefix="run_cases-")
    opts.workdir = work
    try:
        return run_cases(opts, runner, cases, other_config, log_dir)
    finally:
        if opts.cgi and opts.backend == "postgresql" and runner.template:
            try:
                runner.pg.drop(runner.template)
            except PgError as e:
                print("warning: cannot drop the template database: %s" % e,
                      file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        if server:
            server.stop()


def make_template(opts, runner):
    """CGI mode: the database every case starts from a copy of, made by
    oauthctl init and seeded with the fixture; raises CaseError."""
    if opts.backend == "postgresql":
        name = runner.pg.new_name("template")
        try:
            db = runner.pg.create(name)
        except PgError as e:
            raise CaseError("cannot create the template database: %s" % e)
        runner.template = name
    else:
        # oauthctl init creates the directory, private to us.
        db = runner.template = os.path.join(opts.workdir, "template")
    rc, _, err = runner.oauthctl(["init"], db, {})
    if rc != 0:
        raise CaseError("oauthctl init: exit %s: %s"
                        % (rc, err.decode("utf-8", "replace")))
    runner.seed(db, {})


def run_cases(opts, runner, cases, other_config, log_dir):
    """Runs the cases; prints a line each, returns the exit status."""
    if opts.cgi:
        try:
            make_template(opts, runner)
        except CaseError as e:
            print("cannot seed the database: %s" % e)
            print("0 passed, %d failed" % len(cases))
            return 1
        jobs = max(1, opts.jobs)
    else:
        jobs = 1
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = pool.map(runner.run_case, cases)
        passed = failed = 0
        for case, (ok, report, log) in zip(cases, results):
            if ok:
                passed += 1
                print("ok   %s" % case.name)
                if opts.verbose:
                    print("\n".join(log))
                continue
            failed += 1
            print("FAIL %s: %s" % (case.name, case.description))
            print(indent_block(report))
            path = os.path.join(log_dir, case.name + ".log")
            with open(path, "w", encoding="utf-8") as f:
                f.write("%s: %s\n\n%s\n\nsteps run:\n%s\n"
                        % (case.name, case.description, report,
                           "\n\n".join(log)))
            print("     (transcript in %s)" % path)
    if other_config:
        print("(%d case(s) need another server configuration: "
              "see --list-configs)" % other_config)
    if runner.cgi_only_steps:
        print("(%d CGI-only step(s) were not sent over HTTP)"
              % runner.cgi_only_steps)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def indent_block(text):
    return "\n".join("     " + l for l in text.rstrip("\n").split("\n"))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
