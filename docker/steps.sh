#!/bin/sh
# The install steps of the container image, in one place: every RUN of the Dockerfile's build
# stage is `sh docker/steps.sh STEP ARGS...`, and tests/deploy/test_docker.py runs the same lines
# outside Docker (a fresh venv standing in for the image), then runs `connector demo` from the result.
#
#   compiler             a C compiler for mypyc (setup.py), when the base image has none
#   tools VENV           a venv with the pinned build tools (docker/build-requirements.txt)
#   deps TOOLS VENV      the runtime venv (no pip inside) with the pinned, hashed runtime
#                        dependencies (docker/requirements.txt, binary wheels only)
#   wheel TOOLS SRC OUT  build the project's wheel from the source folder SRC into OUT
#   app TOOLS VENV WHEELS  install the project's wheel into the runtime venv, `pip check`, and
#                        check that the normalizer runs compiled
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
step=${1:?usage: steps.sh compiler|tools|deps|wheel|app ARGS...}
shift

case $step in
  compiler)
    # The build stage only: the runtime stage gets the built extensions, not the compiler.
    if ! command -v cc >/dev/null 2>&1; then
      apt-get update
      apt-get install -y --no-install-recommends gcc libc6-dev
      rm -rf /var/lib/apt/lists/*
    fi
    ;;
  tools)
    "$python" -m venv "$1"
    "$1/bin/python" -m pip install --no-deps --require-hashes -r "$here/build-requirements.txt"
    ;;
  deps)
    "$python" -m venv --without-pip "$2"
    "$1/bin/python" -m pip --python "$2/bin/python" install \
      --no-deps --require-hashes --only-binary=:all: -r "$here/requirements.txt"
    ;;
  wheel)
    "$1/bin/python" -m pip wheel --no-deps --no-build-isolation --wheel-dir "$3" "$2"
    ;;
  app)
    "$1/bin/python" -m pip --python "$2/bin/python" install --no-deps --no-index "$3"/*.whl
    "$1/bin/python" -m pip --python "$2/bin/python" check
    # setup.py falls back to pure Python when compiling fails; the image must not do so unnoticed.
    # (-I: the installed package, not the sources in the working folder)
    "$2/bin/python" -I -c 'from connector.normalize import native
m = native.MODULES
assert native.compiled() == list(m), "normalizer not compiled: " + native.summary()
print("normalizer:", native.summary())'
    ;;
  *)
    echo "steps.sh: unknown step $step" >&2
    exit 2
    ;;
esac
