"""deploy/: the kiosk launcher, the systemd units and the settings file, checked against
this machine's own Chromium, gunicorn and (where installed) systemd-analyze.

The units name the paths deploy/README.md installs to (/opt/linli, /usr/local/bin); tests
that run them substitute this checkout for those paths and change nothing else.
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app import gunicorn_conf
from app.config import ENVIRONMENT_KEYS
from tests.speech import SpeechDispatcher, private_speech_dispatcher

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
LAUNCHER = DEPLOY / "linli-kiosk"
CHROMIUM = "/usr/bin/chromium"  # Debian's wrapper script, which the launcher runs
CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")
INSTALL_ROOT = "/opt/linli"
LAUNCHER_INSTALLED = "/usr/local/bin/linli-kiosk"
ENV_FILE = "/etc/linli/linli.env"
YEAR_S = 365 * 24 * 3600
# The probe page reports within 20 s; Chromium then dumps the page and exits.
CHROMIUM_SECONDS = 60


# --- helpers ---------------------------------------------------------------------------

def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit (or desktop entry) as {section: {key: [values, in order]}}: keys
    such as Environment= may repeat, which configparser would merge away."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line and not line.endswith("\\"), \
            f"{path.name}:{number}: not a key=value line in a section: {line!r}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict, section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{key}= is set {len(values)} times in [{section}]"
    return values[0]


def unit_environment(unit: dict) -> dict[str, str]:
    return dict(shlex.split(item)[0].split("=", 1) for item in unit["Service"].get("Environment", []))


def launcher_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINLI_KIOSK_")}
    env.update(HOME=str(tmp_path / "home"), LINLI_KIOSK_PROFILE=str(tmp_path / "profile"), **extra)
    return env


def printed_command(env: dict[str, str]) -> list[str]:
    done = subprocess.run([str(LAUNCHER), "--print"], env=env, capture_output=True, text=True,
                          timeout=10)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"--print should print one command line, printed:\n{done.stdout}"
    return shlex.split(lines[0])


def switch_name(flag: str) -> str:
    return flag[2:].split("=", 1)[0]


def fake_chromium(path: Path, body: str) -> Path:
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)
    return path


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def chromium_strings() -> bytes:
    assert CHROMIUM_BINARY.exists(), "Debian's chromium is needed: sudo apt-get install chromium"
    return CHROMIUM_BINARY.read_bytes()


def known_to_chromium(name: str, strings: bytes) -> bool:
    """A switch, feature or policy name this Chromium build contains as a string.

    Names are NUL-terminated C strings (the linker may share one string's tail with a
    longer one, so only the end is anchored). This cannot prove a name is used, but a
    name missing here is certainly ignored: Chromium drops unknown flags silently.
    """
    return name.encode() + b"\0" in strings


# --- the launcher ----------------------------------------------------------------------

def test_launcher_is_an_executable_strict_bash_script():
    text = LAUNCHER.read_text()
    assert os.access(LAUNCHER, os.X_OK), "chmod +x deploy/linli-kiosk"
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    done = subprocess.run(["bash", "-n", str(LAUNCHER)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_print_shows_every_flag_the_lobby_needs(tmp_path):
    url = "http://10.0.0.5:8000/?from=lobby&screen=2"
    command = printed_command(launcher_env(tmp_path, LINLI_KIOSK_URL=url))
    assert command[0] == CHROMIUM
    assert command[-1] == url
    flags = command[1:-1]
    assert all(flag.startswith("--") for flag in flags), flags
    for required in (
        "--kiosk",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--disable-pinch",
        "--overscroll-history-navigation=0",
        "--hide-crash-restore-bubble",
        "--noerrdialogs",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-speech-dispatcher",
        "--touch-events=enabled",
        "--password-store=basic",
    ):
        assert required in flags, f"{required} is missing from {flags}"
    # Chromium keeps only the last --disable-features: every feature goes in one.
    disabled = [flag for flag in flags if flag.startswith("--disable-features=")]
    assert len(disabled) == 1, disabled
    assert {"Translate", "TouchpadOverscrollHistoryNavigation"} <= set(disabled[0].split("=", 1)[1].split(","))
    interval = [flag for flag in flags if flag.startswith("--check-for-update-interval=")]
    assert len(interval) == 1 and int(interval[0].split("=", 1)[1]) >= YEAR_S
    assert len({switch_name(flag) for flag in flags}) == len(flags), "a switch is given twice"


def test_print_defaults_and_starts_nothing(tmp_path):
    marker = tmp_path / "started"
    browser = fake_chromium(tmp_path / "chromium", f"touch {shlex.quote(str(marker))}")
    env = launcher_env(tmp_path, LINLI_KIOSK_CHROMIUM=str(browser))
    del env["LINLI_KIOSK_PROFILE"]
    command = printed_command(env)
    assert command[0] == str(browser)
    assert command[-1] == "http://127.0.0.1:8000/"
    assert f"--user-data-dir={tmp_path / 'home/.local/share/linli-kiosk'}" in command
    assert not marker.exists() and not (tmp_path / "home").exists()


def test_every_flag_has_its_own_one_line_comment():
    text = LAUNCHER.read_text()
    block = re.search(r"^flags=\(\n(.*?)^\)$", text, re.S | re.M).group(1).splitlines()
    flags = [line.strip() for line in block if not line.strip().startswith("#")]
    assert flags, "no flags found"
    for index, line in enumerate(block):
        if line.strip().startswith("#"):
            assert index + 1 < len(block) and not block[index + 1].strip().startswith("#"), \
                f"one comment line per flag: {line.strip()!r}"
        else:
            assert index > 0 and block[index - 1].strip().startswith("#"), \
                f"{line.strip()} has no comment above it"


def test_every_flag_is_known_to_this_chromium(tmp_path, chromium_strings):
    flags = printed_command(launcher_env(tmp_path))[1:-1]
    for flag in flags:
        assert known_to_chromium(switch_name(flag), chromium_strings), \
            f"{flag}: this Chromium has no such switch (removed?); it would be ignored"
    features = next(flag for flag in flags if flag.startswith("--disable-features="))
    for feature in features.split("=", 1)[1].split(","):
        assert known_to_chromium(feature, chromium_strings), f"unknown feature {feature}"
    # The check tells: these flags from older kiosk recipes are gone from Chromium.
    assert not known_to_chromium("disable-session-crashed-bubble", chromium_strings)
    assert not known_to_chromium("disable-translate", chromium_strings)


PROBE_PAGE = """<!doctype html>
<html><body><p id="probe">waiting</p>
<script>
  var done = false;
  function report() {
    var voices = speechSynthesis.getVoices();
    document.getElementById("probe").textContent = "touch=" + ("ontouchstart" in window) +
      " voices=" + voices.length +
      " cmn=" + voices.some(function (v) { return /^cmn/i.test(v.lang); });
    if (voices.length) finish();
  }
  function finish() { if (!done) { done = true; fetch("/release"); } }
  report();
  speechSynthesis.addEventListener("voiceschanged", report);
  setTimeout(finish, WAIT_MS);
</script>
<img src="/hold" alt=""></body></html>
"""


class ProbeServer:
    """Serves a page that reports touch support and speech voices. Chromium dumps the DOM
    at the load event, and voices arrive after it: an image that the server holds back
    until the page says it is done (or WAIT_MS passed) delays the load event until then."""

    def __init__(self, wait_ms: int):
        release = self.release = threading.Event()
        page = PROBE_PAGE.replace("WAIT_MS", str(wait_ms)).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/hold":
                    release.wait(60)
                    body, kind = b"", "image/gif"
                elif self.path == "/release":
                    release.set()
                    body, kind = b"", "text/plain"
                else:
                    body, kind = page, "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def dump_probe(flags: list[str], wait_ms: int, speech: SpeechDispatcher) -> str:
    """Run Debian's Chromium headless with these flags on the probe page, beside this
    test's own speech-dispatcher; what the page reported. Bounded: a Chromium that has not
    exited after CHROMIUM_SECONDS is killed, with everything it started."""
    probe = ProbeServer(wait_ms)
    try:
        browser = subprocess.Popen(
            [CHROMIUM, *flags, "--headless", "--no-sandbox", "--dump-dom", probe.url],
            env=speech.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        try:
            stdout, stderr = browser.communicate(timeout=CHROMIUM_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, signal.SIGKILL)
            stdout, stderr = browser.communicate(timeout=10)
            pytest.fail(f"Chromium did not exit within {CHROMIUM_SECONDS} s of starting on the probe page "
                        f"(the page waits {wait_ms / 1000:g} s at most for voices).\n"
                        f"Chromium said:\n{stderr[-2000:]}\nThe speech-dispatcher logged:\n{speech.log_tail()}",
                        pytrace=False)
    finally:
        probe.close()
    assert browser.returncode == 0, f"chromium exited {browser.returncode}:\n{stderr[-3000:]}"
    found = re.search(r'<p id="probe">([^<]*)</p>', stdout)
    assert found, f"no DOM dumped:\n{stdout[:2000]}\n{stderr[-2000:]}"
    return found.group(1)


@pytest.mark.e2e
def test_chromium_starts_with_the_launchers_flags_and_they_take_effect(tmp_path):
    command = printed_command(launcher_env(tmp_path))
    assert command[0] == CHROMIUM
    flags = [flag for flag in command[1:-1] if flag != "--kiosk"]  # kiosk needs a display

    with private_speech_dispatcher(tmp_path / "speech") as speech:
        reported = dump_probe(flags, wait_ms=20_000, speech=speech)
        assert "touch=true" in reported, reported
        voices = int(re.search(r"voices=(\d+)", reported).group(1))
        assert voices > 0 and "cmn=true" in reported, (
            f"Chromium found no Mandarin voice ({reported}), though its speech-dispatcher lists "
            f"{speech.mandarin_voices}: the launcher's --enable-speech-dispatcher did not take effect.\n"
            f"The speech-dispatcher logged:\n{speech.log_tail()}")
        assert (tmp_path / "profile").is_dir(), "Chromium did not use the launcher's profile folder"

        # The same probe without those two flags: no touch events, no voices.
        control = dump_probe([flag for flag in flags if flag not in
                              ("--enable-speech-dispatcher", "--touch-events=enabled")], wait_ms=3_000, speech=speech)
        assert "touch=false" in control and "voices=0 " in control, control


def test_launcher_runs_the_printed_command_after_clearing_the_crash_flags(tmp_path):
    seen = tmp_path / "seen"
    seen.mkdir()
    browser = fake_chromium(tmp_path / "chromium", f"""
printf '%s\\0' "$@" > {shlex.quote(str(seen / 'args'))}
cp "$LINLI_KIOSK_PROFILE/Default/Preferences" "$LINLI_KIOSK_PROFILE/Local State" {shlex.quote(str(seen))}/
""")
    env = launcher_env(tmp_path, LINLI_KIOSK_CHROMIUM=str(browser), LINLI_KIOSK_URL="http://kiosk.lan:8000/")
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    # As Chromium leaves them after a crash: compact JSON.
    (profile / "Default" / "Preferences").write_text(
        '{"profile":{"exit_type":"Crashed","exited_cleanly":false,"name":"Kiosk"}}')
    (profile / "Local State").write_text(
        '{"user_experience_metrics":{"stability":{"exited_cleanly":false}}}')

    done = subprocess.run([str(LAUNCHER), "--once"], env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    args = (seen / "args").read_text().split("\0")[:-1]
    assert args == printed_command(env)[1:]
    preferences = json.loads((seen / "Preferences").read_text())["profile"]
    assert preferences == {"exit_type": "Normal", "exited_cleanly": True, "name": "Kiosk"}
    local_state = json.loads((seen / "Local State").read_text())
    assert local_state["user_experience_metrics"]["stability"]["exited_cleanly"] is True


def test_launcher_starts_chromium_again_when_it_exits(tmp_path):
    runs = tmp_path / "runs"
    browser = fake_chromium(tmp_path / "chromium", f"echo run >> {shlex.quote(str(runs))}; exit 1")
    env = launcher_env(tmp_path, LINLI_KIOSK_CHROMIUM=str(browser), LINLI_KIOSK_RESTART_SECONDS="1")
    launcher = subprocess.Popen([str(LAUNCHER)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        # Waits of 1 s, then 2 s: the third start comes about 3 s after the first.
        wait_for(lambda: runs.exists() and len(runs.read_text().splitlines()) >= 3, 15,
                 "the third start of Chromium")
        assert launcher.poll() is None, "the launcher gave up"
    finally:
        launcher.terminate()
        _, stderr = launcher.communicate(timeout=10)
    assert launcher.returncode == 0
    assert "Chromium exited (status 1); starting it again in 1s" in stderr
    assert "starting it again in 2s" in stderr


def test_launcher_stops_chromium_when_it_is_stopped(tmp_path):
    pid_file = tmp_path / "pid"
    browser = fake_chromium(tmp_path / "chromium", f"echo $$ > {shlex.quote(str(pid_file))}; exec sleep 300")
    env = launcher_env(tmp_path, LINLI_KIOSK_CHROMIUM=str(browser))
    launcher = subprocess.Popen([str(LAUNCHER)], env=env)
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 10, "Chromium to start")
        browser_pid = int(pid_file.read_text())
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=10) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
    with pytest.raises(ProcessLookupError):
        os.kill(browser_pid, 0)


def test_chromium_policy_names_policies_this_chromium_knows(chromium_strings):
    policy = json.loads((DEPLOY / "chromium-policy.json").read_text())
    for name in policy:
        assert known_to_chromium(name, chromium_strings), f"unknown policy {name}"
    assert policy["PasswordManagerEnabled"] is False
    assert policy["AutofillAddressEnabled"] is False
    assert policy["TranslateEnabled"] is False


# --- the kiosk's session ---------------------------------------------------------------

def test_kiosk_user_unit_starts_the_launcher_with_the_graphical_session():
    unit = read_unit(DEPLOY / "linli-kiosk.service")
    assert one(unit, "Service", "ExecStart") == LAUNCHER_INSTALLED
    assert one(unit, "Service", "Restart") == "always"
    assert one(unit, "Install", "WantedBy") == "graphical-session.target"
    assert one(unit, "Unit", "PartOf") == "graphical-session.target"
    assert one(unit, "Unit", "ConditionUser") == "kiosk"

    entry = read_unit(DEPLOY / "linli-kiosk.desktop")["Desktop Entry"]
    assert entry["Type"] == ["Application"]
    assert "systemctl --user start linli-kiosk.service" in entry["Exec"][0]


# --- the server ------------------------------------------------------------------------

def test_server_unit_runs_gunicorn_from_the_venv_as_its_own_user():
    unit = read_unit(DEPLOY / "linli.service")
    service = unit["Service"]
    assert one(unit, "Service", "ExecStart") == \
        f"{INSTALL_ROOT}/.venv/bin/gunicorn --config python:app.gunicorn_conf wsgi:app"
    assert one(unit, "Service", "ExecStartPre").startswith(f"{INSTALL_ROOT}/.venv/bin/flask --app wsgi init")
    assert one(unit, "Service", "WorkingDirectory") == INSTALL_ROOT
    assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
    assert one(unit, "Service", "User") == "linli"
    assert one(unit, "Service", "Restart") == "always"
    assert one(unit, "Service", "Type") == "notify"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ProtectHome": "yes"}.items():
        assert service.get(key) == [value], f"{key}={value}"
    # ProtectSystem=strict leaves only the state directory writable: the instance is there.
    assert unit_environment(unit)["LINLI_INSTANCE"] == f"/var/lib/{one(unit, 'Service', 'StateDirectory')}"
    # Workers get graceful_timeout to finish requests before systemd kills anything.
    assert one(unit, "Service", "KillMode") == "mixed"
    assert int(one(unit, "Service", "TimeoutStopSec")) > gunicorn_conf.graceful_timeout
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_server_unit_commands_initialise_and_serve_the_app(tmp_path):
    """ExecStartPre and ExecStart as the unit has them, run here: init twice (idempotent),
    gunicorn tells systemd it is ready, serves, and stops on SIGTERM within TimeoutStopSec."""
    unit = read_unit(DEPLOY / "linli.service")

    def here(value: str) -> str:  # the checkout stands in for the installed code
        return value.replace(INSTALL_ROOT, str(ROOT))

    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ENVIRONMENT_KEYS and not key.startswith("LINLI_") and key != "NOTIFY_SOCKET"}
    env.update(unit_environment(unit))
    env.update(LINLI_INSTANCE=str(tmp_path / "instance"), LINLI_BIND=f"127.0.0.1:{port}",
               LINLI_WORKERS="1", PYTHONUNBUFFERED="1")
    cwd = here(one(unit, "Service", "WorkingDirectory"))

    init = shlex.split(here(one(unit, "Service", "ExecStartPre")))
    first = subprocess.run(init, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "First admin account" in first.stdout and "demo" not in first.stdout
    again = subprocess.run(init, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "password" not in again.stdout

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_name = f"linli-test-{os.getpid()}-{port}"
    notify.bind("\0" + notify_name)
    notify.settimeout(60)
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(shlex.split(here(one(unit, "Service", "ExecStart"))), cwd=cwd,
                              env={**env, "NOTIFY_SOCKET": "@" + notify_name},
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        message = notify.recv(4096).decode()
        assert "READY=1" in message.split("\n"), message
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 30, "a worker to answer")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=int(one(unit, "Service", "TimeoutStopSec"))) == 0
    finally:
        notify.close()
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _variables_the_server_reads() -> set[str]:
    read = set(ENVIRONMENT_KEYS)
    pattern = re.compile(r"""(?:environ\.get|environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")
    for source in [ROOT / "wsgi.py", *sorted((ROOT / "app").rglob("*.py"))]:
        read |= set(pattern.findall(source.read_text()))
    return read


def test_env_example_names_every_variable_the_server_reads():
    read = _variables_the_server_reads()
    gunicorn_reads = set(re.findall(r"LINLI_[A-Z_]+", (ROOT / "app" / "gunicorn_conf.py").read_text()))
    assert gunicorn_reads >= {"LINLI_BIND", "LINLI_WORKERS", "LINLI_THREADS"}
    assert read >= gunicorn_reads | {"LINLI_INSTANCE", "DATABASE_URL", "SECRET_KEY"}
    lines = (DEPLOY / "linli.env.example").read_text().splitlines()
    named = {m.group(1) for line in lines if (m := re.match(r"#?\s?([A-Z][A-Z0-9_]*)=", line))}
    assert read <= named, f"not in linli.env.example: {sorted(read - named)}"
    for line in lines:
        if line.strip() and not line.startswith("#"):
            name = re.match(r"([A-Z][A-Z0-9_]*)=\S", line)
            assert name and name.group(1) in read, f"not a setting the server reads: {line!r}"


def test_linli_flask_runs_commands_as_the_service_does():
    helper = DEPLOY / "linli-flask"
    text = helper.read_text()
    assert os.access(helper, os.X_OK) and "\nset -euo pipefail\n" in text
    assert subprocess.run(["bash", "-n", str(helper)]).returncode == 0
    unit = read_unit(DEPLOY / "linli.service")
    assert f"home={one(unit, 'Service', 'WorkingDirectory')}\n" in text
    assert f"env_file={one(unit, 'Service', 'EnvironmentFile')}\n" in text
    assert f"--property=User={one(unit, 'Service', 'User')} " in text
    assert f"--property=StateDirectory={one(unit, 'Service', 'StateDirectory')} " in text
    assert f"--property=Environment=LINLI_INSTANCE={unit_environment(unit)['LINLI_INSTANCE']} " in text
    assert '"$home/.venv/bin/flask" --app wsgi "$@"' in text


def test_readme_covers_every_file_and_every_flag(tmp_path):
    readme = (DEPLOY / "README.md").read_text()
    for path in DEPLOY.iterdir():
        if path.name != "README.md":
            assert path.name in readme, f"deploy/README.md does not mention {path.name}"
    for flag in printed_command(launcher_env(tmp_path))[1:-1]:
        assert f"--{switch_name(flag)}" in readme, f"deploy/README.md does not explain {flag}"


# Only where systemd-analyze exists: elsewhere this check is absent, not passed.
if shutil.which("systemd-analyze"):
    def test_units_pass_systemd_analyze_verify(tmp_path):
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}

        def verify(name: str, text: str, *options: str) -> subprocess.CompletedProcess:
            copy = tmp_path / name
            copy.write_text(text)
            return subprocess.run(["systemd-analyze", *options, "verify", str(copy)], env=env,
                                  capture_output=True, text=True, timeout=60)

        # The checkout stands in for the installed paths, so the commands exist.
        server = (DEPLOY / "linli.service").read_text().replace(INSTALL_ROOT, str(ROOT))
        kiosk = (DEPLOY / "linli-kiosk.service").read_text().replace(LAUNCHER_INSTALLED, str(LAUNCHER))
        for name, text, options in (("linli.service", server, ()),
                                    ("linli-kiosk.service", kiosk, ("--user",))):
            done = verify(name, text, *options)
            # Unknown keys and bad values are only warnings: any output is a failure.
            assert done.returncode == 0 and not done.stdout + done.stderr, \
                f"systemd-analyze verify {name}:\n{done.stdout}{done.stderr}"

        typo = verify("typo.service", server.replace("ProtectSystem=strict", "ProtectSystem=strikt"))
        assert "strikt" in typo.stderr, "systemd-analyze let a bad value pass unnoticed"
