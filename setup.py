"""Package discovery for the folder mapping; pyproject.toml holds everything else.

The user asked for top-level folders (shell/, tools/, policies/, models/) that all map into the one `llmos`
namespace, so nothing generic such as `tools` lands in site-packages. setuptools' own discovery cannot put a
folder under a namespace, so each mapped folder is searched here: a new subpackage needs no hand edit. Folders of
data (profiles/, tasks/, LICENSES/) are found as namespace packages so their files ship as package data.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = {
    "llmos": "llmos",
    "llmos.shell": "shell",
    "llmos.tools": "tools",
    "llmos.policies": "policies",
    "llmos.models": "models",
    "llmos.evals": "evals",
}


def packages() -> list[str]:
    found = []
    for package, folder in FOLDERS.items():
        found.append(package)
        found += [f"{package}.{sub}" for sub in find_namespace_packages(folder, exclude=["*__pycache__*"])]
    return found


setup(package_dir=FOLDERS, packages=packages())
