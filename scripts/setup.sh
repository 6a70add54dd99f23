# Sourced by ./run and ./test: makes .venv and installs what the command needs, once.
# Usage: . scripts/setup.sh runtime|dev
# Re-installs only when a requirements file changed (a stamp holds their hash).
set -euo pipefail
kind="${1:-runtime}"
# dev: opencv-doc ships vtest.avi (people walking down a campus), the real clip of the crowd tests;
# jackd2's dummy driver gives tests/test_midi.py real MIDI ports where the kernel has no ALSA
# ($lean: installed without recommends, qjackctl would bring Qt). libasound2: python-rtmidi links it.
# chromium + chromium-driver: tests/test_web_browser.py drives the staff's panel in a real headless
# browser (about 120 MB to download, 380 MB installed; lean: no upower, printer or notification daemons).
case "$kind" in
  runtime) reqs=requirements.txt; debs="libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libasound2"; lean="" ;;
  dev) reqs=requirements-dev.txt; debs="libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libasound2 xvfb liblo-tools puredata-core strace systemd opencv-doc"; lean="jackd2 chromium chromium-driver" ;;
  *) echo "setup.sh: unknown kind '$kind'" >&2; return 2 ;;
esac

missing="" missing_lean=""
for d in $debs; do
  dpkg -s "$d" >/dev/null 2>&1 || missing="$missing $d"
done
for d in $lean; do
  dpkg -s "$d" >/dev/null 2>&1 || missing_lean="$missing_lean $d"
done
if [ -n "$missing$missing_lean" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages:$missing$missing_lean" >&2
    apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
    install_all() {
      { [ -z "$missing" ] || apt_install $missing; } \
        && { [ -z "$missing_lean" ] || apt_install --no-install-recommends $missing_lean; }
    }
    install_all || { apt-get update -q >/dev/null && install_all; }
  else
    echo "missing Debian packages; run:  sudo apt-get install -y$missing$missing_lean" >&2
    [ "$kind" = dev ] && return 1
  fi
fi

py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
if [ ! -x .venv/bin/python ]; then
  "$py" -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11 needed"' || return 1
  "$py" -m venv .venv
fi
stamp=".venv/.installed-$kind"
want="$(cat requirements*.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing Python packages ($reqs) into .venv ..." >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$reqs" 2>&1 | grep -v "is ignored" >&2 || true
  # ORT_DISABLE_TELEMETRY: importing onnxruntime would otherwise write its telemetry database (privacy)
  ORT_DISABLE_TELEMETRY=1 .venv/bin/python -c "import onnxruntime, numpy, cv2, mediapipe, moderngl" || return 1
  echo "$want" > "$stamp"
fi

# dev: a real Triton Inference Server (2.51) for the remote-generator tests (tests/generator/test_remote.py),
# in a venv of its own: the nvidia-pytriton wheel carries the server binary and its python back end, which
# runs the exported model.py with this venv's ONNX Runtime (the wheel wants numpy < 2). Once, by a stamp.
if [ "$kind" = dev ]; then
  triton_pkgs="nvidia-pytriton==0.5.14 numpy<2 onnxruntime"
  if [ "$(cat .venv-triton/.installed 2>/dev/null)" != "$triton_pkgs" ]; then
    echo "installing the Triton server for tests into .venv-triton ..." >&2
    [ -x .venv-triton/bin/python ] || "$py" -m venv .venv-triton
    .venv-triton/bin/python -m pip install -q --disable-pip-version-check $triton_pkgs 2>&1 | grep -v "is ignored" >&2 || true
    .venv-triton/bin/python -c "import pytriton, onnxruntime" || return 1
    echo "$triton_pkgs" > .venv-triton/.installed
  fi
fi
