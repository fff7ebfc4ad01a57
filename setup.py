"""Which packages the wheel holds; everything else about the project is in setup.cfg.

setuptools finds the code's packages. `languages/` and `pipelines/` live at the top of the
repository (they are data users edit) and are mapped into the package, so that a plain,
non-editable `pip install .` ships them too.
"""

from setuptools import find_packages, setup

DATA_PACKAGES = {"roots_pipeline.languages": "languages", "roots_pipeline.pipelines": "pipelines"}

setup(packages=find_packages(include=["roots_pipeline", "roots_pipeline.*"]) + list(DATA_PACKAGES),
      package_dir=DATA_PACKAGES)
