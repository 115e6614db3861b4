#!/usr/bin/env python3
"""Usage: check_config.py REPO_ROOT

The ctest of the ClusterFuzzLite and OSS-Fuzz files (label ossfuzz): parses
every YAML file under .clusterfuzzlite/, .github/workflows/ and
projects/sptefuzz/ and checks the keys that the documented formats require:
the four ClusterFuzzLite modes (code-change on pull requests, batch on a
schedule, prune, coverage with the coverage sanitizer), the action inputs,
project.yaml (language: c++), the Dockerfiles and build scripts.
Exit status: 0 all good, 1 a check failed, 2 bad usage.
"""
import os
import sys

try:
    import yaml
except ImportError:
    print("FAIL: python3-yaml is missing (scripts/setup.sh installs it)")
    sys.exit(1)

ACTION_BUILD = "google/clusterfuzzlite/actions/build_fuzzers@v1"
ACTION_RUN = "google/clusterfuzzlite/actions/run_fuzzers@v1"
BUILD_INPUTS = {"language", "github-token", "sanitizer", "upload-build", "dry-run", "allowed-broken-targets-percentage",
                "bad-build-check", "keep-unaffected-fuzz-targets", "storage-repo", "storage-repo-branch",
                "storage-repo-branch-coverage", "project-src-path", "output-sarif"}
RUN_INPUTS = {"github-token", "fuzz-seconds", "mode", "sanitizer", "output-sarif", "dry-run", "language",
              "report-unreproducible-crashes", "report-timeouts", "report-ooms", "minimize-crashes",
              "parallel-fuzzing", "storage-repo", "storage-repo-branch", "storage-repo-branch-coverage",
              "upload-all-crashes", "project-src-path"}
SANITIZERS = {"address", "undefined", "memory", "coverage"}
errors = []


def fail(path, msg):
    errors.append(f"{path}: {msg}")


def load(path):
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        fail(path, f"does not parse: {e}")
        return None


def check_workflow(path, doc, modes_seen):
    if not isinstance(doc, dict):
        return fail(path, "not a mapping")
    for key in ("name", "jobs", "permissions"):
        if key not in doc:
            fail(path, f"missing '{key}'")
    # YAML 1.1 reads the key `on` as the boolean true.
    on = doc.get("on", doc.get(True))
    if not isinstance(on, dict) or not on:
        return fail(path, "missing 'on' triggers")
    for name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict) or "runs-on" not in job or not isinstance(job.get("steps"), list):
            fail(path, f"job {name}: needs runs-on and a list of steps")
            continue
        matrix = ((job.get("strategy") or {}).get("matrix") or {}).get("sanitizer", [])
        for s in matrix:
            if s not in SANITIZERS:
                fail(path, f"job {name}: unknown sanitizer {s!r} in the matrix")
        built = False
        for step in job["steps"]:
            uses, inputs = step.get("uses"), step.get("with") or {}
            if uses == ACTION_BUILD:
                built = True
                if inputs.get("language") != "c++":
                    fail(path, f"job {name}: build_fuzzers needs language: c++")
                for k in inputs:
                    if k not in BUILD_INPUTS:
                        fail(path, f"job {name}: build_fuzzers has no input {k!r}")
            elif uses == ACTION_RUN:
                if not built:
                    fail(path, f"job {name}: run_fuzzers before build_fuzzers")
                for k in inputs:
                    if k not in RUN_INPUTS:
                        fail(path, f"job {name}: run_fuzzers has no input {k!r}")
                mode = inputs.get("mode")
                if mode not in ("code-change", "batch", "prune", "coverage"):
                    fail(path, f"job {name}: run_fuzzers mode {mode!r}")
                    continue
                if not isinstance(inputs.get("fuzz-seconds"), int):
                    fail(path, f"job {name}: fuzz-seconds must be an integer")
                if "github-token" not in inputs:
                    fail(path, f"job {name}: run_fuzzers needs github-token")
                trigger = {"code-change": "pull_request"}.get(mode, "schedule")
                if trigger not in on:
                    fail(path, f"job {name}: mode {mode} runs on '{trigger}', the workflow has {sorted(on)}")
                if trigger == "schedule":
                    crons = [c.get("cron") for c in on["schedule"] or []]
                    if not crons or not all(isinstance(c, str) and len(c.split()) == 5 for c in crons):
                        fail(path, f"job {name}: schedule needs cron entries of five fields")
                if mode == "coverage":
                    build = next(s for s in job["steps"] if s.get("uses") == ACTION_BUILD)
                    if (build.get("with") or {}).get("sanitizer") != "coverage" or inputs.get("sanitizer") != "coverage":
                        fail(path, f"job {name}: coverage needs sanitizer: coverage in both steps")
                modes_seen.add(mode)


def check_dockerfile(path, project_copy):
    try:
        text = open(path).read()
    except OSError as e:
        return fail(path, str(e))
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    if not lines or not lines[0].startswith("FROM gcr.io/oss-fuzz-base/base-builder"):
        fail(path, "must start FROM gcr.io/oss-fuzz-base/base-builder")
    if not any(l.startswith("RUN apt-get update && apt-get install -y") for l in lines):
        fail(path, "no apt-get install of the build dependencies")
    if not any("abseil-cpp" in l and "$SRC/abseil-cpp" in l for l in lines):
        fail(path, "abseil-cpp is not cloned into $SRC/abseil-cpp")
    if not any(l.startswith(project_copy) for l in lines):
        fail(path, f"missing '{project_copy}'")
    if not any(l.startswith("COPY") and "build.sh $SRC/" in l for l in lines):
        fail(path, "build.sh is not copied to $SRC/")


def check_build_sh(path):
    if not os.access(path, os.X_OK):
        fail(path, "not executable")
    text = open(path).read()
    if not text.startswith("#!/bin/bash -eu"):
        fail(path, "must start with #!/bin/bash -eu")
    if '"$SRC/sptefuzz/scripts/oss-fuzz/build.sh"' not in text:
        fail(path, "does not call $SRC/sptefuzz/scripts/oss-fuzz/build.sh")


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    root = sys.argv[1]
    cfl = os.path.join(root, ".clusterfuzzlite")
    wf = os.path.join(root, ".github", "workflows")
    oss = os.path.join(root, "projects", "sptefuzz")
    yamls = []
    for d in (cfl, wf, oss):
        if not os.path.isdir(d):
            fail(d, "missing directory")
            continue
        yamls += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".yml", ".yaml"))]
    modes = set()
    for path in yamls:
        doc = load(path)
        if doc is None:
            continue
        if os.path.basename(path) == "project.yaml":
            if not isinstance(doc, dict) or doc.get("language") != "c++":
                fail(path, "needs language: c++")
            if path.startswith(oss):
                for key in ("homepage", "primary_contact", "main_repo"):
                    if not isinstance(doc.get(key), str) or not doc[key]:
                        fail(path, f"OSS-Fuzz needs '{key}'")
                for s in doc.get("sanitizers", []):
                    if s not in ("address", "undefined", "memory"):
                        fail(path, f"unknown sanitizer {s!r}")
                for e in doc.get("fuzzing_engines", []):
                    if e not in ("libfuzzer", "afl", "honggfuzz", "centipede"):
                        fail(path, f"unknown fuzzing engine {e!r}")
        elif path.startswith(wf):
            check_workflow(path, doc, modes)
    for mode in ("code-change", "batch", "prune", "coverage"):
        if mode not in modes:
            fail(wf, f"no workflow runs ClusterFuzzLite mode {mode}")
    for name in ("project.yaml",):
        for d in (cfl, oss):
            if not os.path.isfile(os.path.join(d, name)):
                fail(d, f"missing {name}")
    check_dockerfile(os.path.join(cfl, "Dockerfile"), "COPY . $SRC/sptefuzz")
    check_dockerfile(os.path.join(oss, "Dockerfile"), "RUN git clone --depth 1 https://github.com/")
    check_build_sh(os.path.join(cfl, "build.sh"))
    check_build_sh(os.path.join(oss, "build.sh"))
    for e in errors:
        print("FAIL: " + e)
    if errors:
        sys.exit(1)
    print(f"PASS: {len(yamls)} YAML files, ClusterFuzzLite modes {sorted(modes)}")


main()
