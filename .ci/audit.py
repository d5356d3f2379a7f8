"""Dependency audit for CI: run pip-audit over the installed environment and fail on any
known vulnerability. When the vulnerability database cannot be reached (a registry mirror
without PyPI's JSON API, no route to osv.dev) nothing was audited: say so loudly instead of
passing silently, and do not fail the build for the network's sake."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig


def main() -> int:
    site = sysconfig.get_paths()["purelib"]
    found = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off",
         "--path", site], capture_output=True, text=True, check=False)
    try:
        report = json.loads(found.stdout)
    except ValueError:
        print(f"audit: pip-audit gave no report (exit {found.returncode}):\n"
              f"{found.stderr[-2000:]}", file=sys.stderr)
        return 0 if _unreachable(found.stderr) else 1
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            print(f"audit: {dependency['name']} {dependency['version']}: {vuln['id']} "
                  f"(fixed in {', '.join(vuln.get('fix_versions', [])) or 'no release'})")
    if not audited:
        print(f"audit: WARNING: none of {len(dependencies)} dependencies could be audited "
              "(the vulnerability database is unreachable from here); nothing was checked",
              file=sys.stderr)
        return 0
    print(f"audit: {len(audited)} dependencies audited, {len(vulnerable)} vulnerable")
    return 1 if vulnerable else 0


def _unreachable(stderr: str) -> bool:
    return any(sign in stderr for sign in ("ConnectionError", "NameResolutionError",
                                           "Max retries exceeded"))


if __name__ == "__main__":
    raise SystemExit(main())
