import json
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
requirements = [line.strip() for line in HERE.joinpath("requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

#: what the dashboard serves: its own files, and of node_modules/ only the files
#: the page loads (health_api.app.VENDOR), with their licences
FRONTEND_FILES = ("index.html", "js", "css")
VENDOR_FILES = {"d3": ("d3.js", "d3.min.js", "LICENSE", "package.json"),
                "nvd3": ("build/nv.d3.js", "build/nv.d3.min.js", "build/nv.d3.css",
                         "build/nv.d3.min.css", "build/nv.d3.js.map", "build/nv.d3.min.js.map",
                         "build/nv.d3.min.css.map", "LICENSE.md", "package.json")}


class build_py_with_frontend(build_py):
    """A wheel serves the whole dashboard without npm on the target: the
    frontend and the d3/NVD3 files pinned by frontend/package-lock.json are
    copied into health_api/frontend/ (run `npm ci` in frontend/ first). An
    editable install serves the checkout's frontend/ and copies nothing."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = HERE / "frontend"
        target = Path(self.build_lib) / "health_api" / "frontend"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in FRONTEND_FILES:
            path = source / name
            if path.is_dir():
                shutil.copytree(path, target / name, ignore=shutil.ignore_patterns("test"))
            else:
                shutil.copy2(path, target / name)
        pins = json.loads((source / "package-lock.json").read_text())["packages"]
        for lib, files in VENDOR_FILES.items():
            home = source / "node_modules" / lib
            wanted = pins[f"node_modules/{lib}"]["version"]
            installed = (json.loads((home / "package.json").read_text())["version"]
                         if (home / "package.json").is_file() else None)
            if installed != wanted:
                raise SystemExit(f"frontend/node_modules/{lib} is {installed or 'missing'}, "
                                 f"package-lock.json pins {wanted}: run `npm ci` in frontend/")
            for name in files:
                if (home / name).is_file():  # licence file names vary
                    (target / "node_modules" / lib / name).parent.mkdir(parents=True,
                                                                        exist_ok=True)
                    shutil.copy2(home / name, target / "node_modules" / lib / name)


setup(
    name="ci-health",
    version="0.1.0",
    description="How healthy is our CI, at a glance: subunit results and Gerrit CI verdicts.",
    python_requires=">=3.11",
    # migrations/ sits at the top of the repository but installs inside the
    # package, so an installed ci-health can upgrade its schema too.
    packages=find_packages(include=["health_api", "health_api.*"])
    + ["health_api.migrations", "health_api.migrations.versions"],
    package_dir={"health_api.migrations": "migrations"},
    package_data={"health_api.migrations": ["script.py.mako"]},
    install_requires=requirements,
    entry_points={"console_scripts": ["ci-health = health_api.cli:main"]},
    cmdclass={"build_py": build_py_with_frontend},
)
