#!/bin/sh
# The install steps of the container image, in one place: every RUN of the Dockerfile's build
# stage is `sh docker/steps.sh STEP ARGS...`, and tests/deploy/test_docker.py runs the same lines
# outside Docker (a fresh venv standing in for the image), then runs `connector demo` from the result.
#
#   tools VENV           a venv with the pinned build tools (docker/build-requirements.txt)
#   deps TOOLS VENV      the runtime venv (no pip inside) with the pinned, hashed runtime
#                        dependencies (docker/requirements.txt, binary wheels only)
#   wheel TOOLS SRC OUT  build the project's wheel from the source folder SRC into OUT
#   app TOOLS VENV WHEELS  install the project's wheel into the runtime venv, then `pip check`
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
step=${1:?usage: steps.sh tools|deps|wheel|app ARGS...}
shift

case $step in
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
    ;;
  *)
    echo "steps.sh: unknown step $step" >&2
    exit 2
    ;;
esac
