#!/usr/bin/env bash
# Builds the C# binding with Mono and runs the sample (samples/SendPasswordEmail.cs).
# Against the stub:   tests/with-stub.sh bindings/csharp/run-demo.sh
# Against a server:   SO_BASE_URL=https://... SO_TICKET=... bindings/csharp/run-demo.sh
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/build.sh"
exec mono --debug "$build_dir/SendPasswordEmail.exe" "$@"
