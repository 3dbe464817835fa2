"""conan create's test: build a small gomp program with Meson through
pkg-config (MesonToolchain + PkgConfigDeps), run it, check what it prints.
Uses the system's meson and ninja: no tool_requires, so it needs nothing
from a remote."""
import io
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.layout import basic_layout
from conan.tools.gnu import PkgConfigDeps
from conan.tools.meson import Meson, MesonToolchain


class GompTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        basic_layout(self)

    def generate(self):
        MesonToolchain(self).generate()
        PkgConfigDeps(self).generate()

    def build(self):
        meson = Meson(self)
        meson.configure()
        meson.build()

    def test(self):
        if not can_run(self):
            return
        out = io.StringIO()
        self.run(os.path.join(self.cpp.build.bindirs[0], "test_package"), stdout=out, env="conanrun")
        expected = "gomp 0.1.0: sum 5050, map 100 keys\n"
        if expected not in out.getvalue():
            raise Exception(f"test_package printed {out.getvalue()!r}, expected {expected!r}")
