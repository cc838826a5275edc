"""A speech-dispatcher of a test's own, for a browser that reads aloud.

Chromium started with --enable-speech-dispatcher talks to whichever dispatcher answers at
$XDG_RUNTIME_DIR/speech-dispatcher/speechd.sock (~/.cache/speech-dispatcher/ without that
variable), and starts one there if none answers. On a test machine that dispatcher is
shared with everything else the user runs and set up for a sound card the machine lacks:
once anything has made it speak, its espeak-ng module dies, it lists no voices, and while
it waits for the module it answers nothing, so a headless Chromium waiting on it never exits.

The dispatcher started here has its own home, runtime folder and configuration: espeak-ng
only, sound to libao's null driver, no autospawn. It runs as this process's child, must
list a Mandarin voice (espeak-ng's "cmn") within READY_SECONDS before any browser starts,
and is stopped, with its module, through its own process group.
"""

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = "sudo apt-get install speech-dispatcher espeak-ng (or `make chromium`)"
ESPEAK_MODULE = Path("/usr/lib/speech-dispatcher-modules/sd_espeak-ng")
READY_SECONDS = 30
STOP_SECONDS = 10
# Replaces the machine's /etc/speech-dispatcher/speechd.conf for this dispatcher.
SPEECHD_CONF = """\
AudioOutputMethod "libao"
AddModule "espeak-ng" "sd_espeak-ng" "espeak-ng.conf"
DefaultModule espeak-ng
DisableAutoSpawn
"""
# speech-dispatcher 0.11 logs a line per voice listed, at every log level.
VOICE_LINE = "LINE here:"


@dataclass(frozen=True)
class SpeechDispatcher:
    env: dict[str, str]  # a browser started with it finds this dispatcher and no other
    log_folder: Path
    mandarin_voices: int

    def log_tail(self, lines: int = 30) -> str:
        return _log_tail(self.log_folder, lines)


def _log_tail(folder: Path, lines: int = 30) -> str:
    """The end of what the dispatcher and its module logged, without the voice lists.
    Its own log repeats what it printed once it opened the log folder."""
    paths = [path for path in sorted(folder.glob("*.log")) if path.stat().st_size]
    if any(path.name == "speech-dispatcher.log" for path in paths):
        paths = [path for path in paths if path.name != "started.log"]
    text = []
    for path in paths:
        kept = [line for line in path.read_text(errors="replace").splitlines() if VOICE_LINE not in line]
        text.append(f"--- {path.name}\n" + "\n".join(kept[-lines:]))
    return "\n".join(text) or "(nothing logged)"


def _languages(env: dict[str, str], seconds: float) -> list[str]:
    """The language of every voice the dispatcher lists (spd-say -L: name, language, variant)."""
    done = subprocess.run(["spd-say", "--list-synthesis-voices"], env=env, capture_output=True, text=True,
                          timeout=seconds)
    if done.returncode != 0:
        return []
    return [line.rsplit(None, 2)[1] for line in done.stdout.splitlines()[1:] if len(line.split()) >= 3]


def _stop(dispatcher: subprocess.Popen) -> None:
    for stop_signal in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(dispatcher.pid, stop_signal)
        except ProcessLookupError:
            pass
        try:
            dispatcher.wait(timeout=STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def private_speech_dispatcher(folder: Path):
    """Start a speech-dispatcher of its own in folder; yield it once it lists a Mandarin voice."""
    missing = [program for program in ("speech-dispatcher", "spd-say") if shutil.which(program) is None]
    if not ESPEAK_MODULE.exists():
        missing.append(f"{ESPEAK_MODULE} (speech-dispatcher-espeak-ng)")
    if missing:
        pytest.fail(f"Read-aloud needs speech-dispatcher and espeak-ng; this machine lacks {', '.join(missing)}: "
                    f"{INSTALL}", pytrace=False)
    home, runtime, logs = folder / "home", folder / "run", folder / "log"
    (home / ".config" / "speech-dispatcher").mkdir(parents=True)
    (home / ".config" / "speech-dispatcher" / "speechd.conf").write_text(SPEECHD_CONF)
    (home / ".libao").write_text("default_driver=null\n")
    runtime.mkdir(mode=0o700)
    logs.mkdir()
    socket_path = runtime / "speech-dispatcher" / "speechd.sock"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_RUNTIME_DIR": str(runtime),
           "SPEECHD_ADDRESS": f"unix_socket:{socket_path}"}
    with (logs / "started.log").open("wb") as output:
        dispatcher = subprocess.Popen(
            ["speech-dispatcher", "--run-single", "--timeout", "0", "--communication-method", "unix_socket",
             "--socket-path", str(socket_path), "--log-dir", str(logs)],
            env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_SECONDS
        languages = []
        while not languages:
            if dispatcher.poll() is not None:
                pytest.fail(f"speech-dispatcher exited ({dispatcher.returncode}) while starting:\n{_log_tail(logs)}",
                            pytrace=False)
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"speech-dispatcher listed no voices within {READY_SECONDS} s "
                            f"(is espeak-ng installed? {INSTALL}):\n{_log_tail(logs)}", pytrace=False)
            if socket_path.exists():
                try:
                    languages = _languages(env, left)
                except subprocess.TimeoutExpired:
                    continue  # the deadline check above fails with the log
            if not languages:
                time.sleep(0.1)
        mandarin = sum(language.lower().startswith("cmn") for language in languages)
        if not mandarin:
            pytest.fail(f"espeak-ng lists {len(languages)} voices but no Mandarin one (cmn), which read-aloud "
                        f"speaks Chinese with: {INSTALL}", pytrace=False)
        yield SpeechDispatcher(env=env, log_folder=logs, mandarin_voices=mandarin)
    finally:
        _stop(dispatcher)
