#!/usr/bin/env bash
# Mutation testing, run by hand (not in CI): for each module whose mistakes cost money or leak
# the key, mutmut plants one small bug at a time and runs the tests that cover that module; a
# bug no test notices "survives". Scores go to test-output/mutation/<folder-module>.json.
#
#   bash scripts/mutate.sh                  # every module in pyproject's [tool.tryon-mutate.tests]
#   bash scripts/mutate.sh errors hosting/limits   # just these (paths under tryon_demo/)
#   MUTATE_KEEP=1 bash scripts/mutate.sh api/auth  # keep the work folder to inspect survivors
#                                               # (cd into it: python -m mutmut show <name>)
#
# Each module runs in a copy of the project of its own, so runs never touch the work tree and a
# module's mutants only ever meet the tests mapped to it. The machine is shared: mutmut runs at
# the lowest priority with one worker unless MUTATE_CHILDREN says otherwise. Run one module at a
# time on an otherwise idle machine: a timeout counts as caught, and tests slowed down by other
# work time out whatever the mutant did.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Not in requirements-dev.txt: CI never runs it, so CI need not install it.
python -c "import mutmut" 2>/dev/null || python -m pip install --quiet "mutmut==3.8.1"

modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
    mapfile -t modules < <(python -c '
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["tryon-mutate"]["tests"]))')
fi

mkdir -p test-output/mutation
failed=0
for module in "${modules[@]}"; do
    name=${module//\//-}  # hosting/limits -> hosting-limits, for file names
    work=$(mktemp -d "${TMPDIR:-/tmp}/tryon-mutate-$name-XXXX")
    cp -r tryon_demo tests assets app.py pyproject.toml "$work/"
    find "$work" -name __pycache__ -prune -exec rm -rf {} +
    # Point mutmut at this module and its tests: keys added under the [tool.mutmut] header.
    python - "$work/pyproject.toml" "$module" <<'EOF'
import json, sys, tomllib
path, module = sys.argv[1], sys.argv[2]
text = open(path).read()
tests = tomllib.loads(text)["tool"]["tryon-mutate"]["tests"][module]
extra = (
    f'only_mutate = ["tryon_demo/{module}.py"]\n'
    f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
)
open(path, "w").write(text.replace("[tool.mutmut]\n", "[tool.mutmut]\n" + extra, 1))
EOF
    echo "== $module: mutating tryon_demo/$module.py ($work)"
    (
        cd "$work"
        nice -n 19 python -m mutmut run --max-children "${MUTATE_CHILDREN:-1}" >mutmut.log 2>&1 || true
        python -m mutmut export-cicd-stats >/dev/null
        python -m mutmut results >survivors.txt 2>&1 || true
    )
    if grep -q "Failed to run clean test\|failed to collect stats" "$work/mutmut.log"; then
        # The tests fail without any mutant (or depend on order): no score means anything.
        echo "$module: the mapped tests failed on the unchanged code; see $work/mutmut.log" >&2
        failed=1
        continue
    fi
    cp "$work/mutants/mutmut-cicd-stats.json" "test-output/mutation/$name.json"
    cp "$work/survivors.txt" "test-output/mutation/$name-survivors.txt"
    python - "test-output/mutation/$name.json" "$module" <<'EOF'
import json, sys
stats = json.load(open(sys.argv[1]))
# A mutant no test runs counts against the score, like one that survives them.
caught = stats["killed"] + stats["timeout"]
judged = caught + stats["survived"] + stats["no_tests"] + stats["suspicious"]
score = 100 * caught / judged if judged else 0.0
print(f"{sys.argv[2]}: {score:.0f} % killed ({stats['killed']} killed, "
      f"{stats['timeout']} timed out, {stats['survived']} survived, "
      f"{stats['no_tests']} not covered, {stats['suspicious']} suspicious)")
EOF
    [ -n "${MUTATE_KEEP:-}" ] || rm -rf "$work"
done
echo "Survivors: test-output/mutation/<module>-survivors.txt"
cd "$root"
exit "$failed"
