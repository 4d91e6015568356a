from pathlib import Path

from setuptools import find_packages, setup

requirements = [line.strip() for line in Path(__file__).with_name("requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

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
)
